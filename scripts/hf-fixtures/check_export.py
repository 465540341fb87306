#!/usr/bin/env python3
"""Check a Hugging Face folder spar exported against spar's own logits, without transformers.

Reads DIR/config.json and DIR/model.safetensors with its own JSON and safetensors parsing (F32,
BF16, F16), checks the keys and tensors transformers would need, runs make_fixtures.py's float64
numpy forward pass (written from transformers' eager modelling code) on the stored weights, and
compares its logits with spar's engine logits for the same ids (LOGITS.json: {"ids": [[...]],
"logits": [[[...]]]}, as scripts/hf-fixtures/spar-logits.ts writes them). Prints the largest
difference relative to the largest |logit| and exits 1 above --tolerance (default 1e-4).

    npx tsx scripts/hf-fixtures/spar-logits.ts SOURCE /tmp/spar-logits.json
    python3 scripts/hf-fixtures/check_export.py DIR /tmp/spar-logits.json
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import reference_logits  # noqa: E402

DTYPES = {'F32': np.float32, 'F16': np.float16, 'BF16': np.uint16}
ARCHITECTURES = {'llama': 'LlamaForCausalLM', 'qwen2': 'Qwen2ForCausalLM', 'qwen3': 'Qwen3ForCausalLM', 'arcee': 'ArceeForCausalLM'}


def read_safetensors(path):
    with open(path, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop('__metadata__', {})
    data = blob[8 + n:]
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        raw = np.frombuffer(data[begin:end], dtype=np.dtype(DTYPES[e['dtype']]).newbyteorder('<')).reshape(e['shape'])
        if e['dtype'] == 'BF16':
            values = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            values = raw
        tensors[name] = values.astype(np.float64)
    return meta, tensors


def expected_names(cfg):
    names = {'model.embed_tokens.weight', 'model.norm.weight'}
    if not cfg['tie_word_embeddings']:
        names.add('lm_head.weight')
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        names |= {p + n for n in ('input_layernorm.weight', 'post_attention_layernorm.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight')}
        names |= {p + f'self_attn.{x}_proj.weight' for x in 'qkvo'}
        if cfg['model_type'] != 'arcee':
            names.add(p + 'mlp.gate_proj.weight')
        if cfg['model_type'] == 'qwen2':
            names |= {p + f'self_attn.{x}_proj.bias' for x in 'qkv'}
        if cfg['model_type'] == 'qwen3':
            names |= {p + 'self_attn.q_norm.weight', p + 'self_attn.k_norm.weight'}
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('logits')
    ap.add_argument('--tolerance', type=float, default=1e-4)
    a = ap.parse_args()
    with open(os.path.join(a.dir, 'config.json')) as f:
        cfg = json.load(f)
    assert cfg['architectures'] == [ARCHITECTURES[cfg['model_type']]], cfg['architectures']
    for key in ('rope_scaling',):
        assert cfg.get(key) is None, f'{key} {cfg.get(key)}'
    assert cfg['rope_parameters'] == {'rope_type': 'default', 'rope_theta': cfg['rope_theta']}
    assert cfg.get('attention_bias', False) is False and cfg.get('mlp_bias', False) is False
    meta, W = read_safetensors(os.path.join(a.dir, 'model.safetensors'))
    assert meta == {'format': 'pt'}, meta
    want = expected_names(cfg)
    assert set(W) == want, f'missing {sorted(want - set(W))}, unexpected {sorted(set(W) - want)}'
    with open(a.logits) as f:
        spar = json.load(f)
    ids = np.array(spar['ids'])
    ref = reference_logits(cfg, W, ids)
    got = np.array(spar['logits'], dtype=np.float64)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    scale = np.abs(ref).max()
    err = np.abs(got - ref).max() / scale
    print(json.dumps({'dir': a.dir, 'model_type': cfg['model_type'], 'torch_dtype': cfg['torch_dtype'], 'ids': list(ids.shape),
                      'max_abs_logit': float(scale), 'max_rel_error': float(err)}))
    sys.exit(0 if err <= a.tolerance else 1)


if __name__ == '__main__':
    main()
