#!/usr/bin/env python3
"""Tiny Hugging Face-layout causal LMs and their reference logits, for spar's import parity tests.

Writes packages/policy/test/fixtures/hf/<name>/{config.json, model.safetensors, expected.json}:

  qwen2  GQA (4 query heads, 2 key/value heads), q/k/v biases, tied embeddings, stored BF16
  llama  untied lm_head, F32, rope_theta 500000 (no rope_scaling)
  qwen3  q/k RMSNorms, head_dim 8 with hidden_size 16 (heads * head_dim != hidden), GQA, F16
  arcee  Llama with a non-gated MLP down(gelu_tanh(up(x))) (spar's GELU model), MQA, tied, F32

The reference forward pass is float64 numpy, written from the eager path of transformers'
modeling_qwen2.py / modeling_llama.py / modeling_qwen3.py / modeling_arcee.py (RMSNorm,
rotate_half RoPE, repeat_kv, softmax(QK^T / sqrt(head_dim) + causal mask), SwiGLU MLP, or
Arcee's up/down MLP with hidden_act gelu_pytorch_tanh). It runs on the weights exactly as
stored (after BF16/F16 rounding), so the only difference left to the engine is its float32
arithmetic. Needs Python 3 and numpy only. Deterministic: rerunning rewrites identical files.

    python3 scripts/hf-fixtures/make_fixtures.py
"""
import json
import os
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
OUT = os.path.join(ROOT, 'packages', 'policy', 'test', 'fixtures', 'hf')


# ----------------------------------------------------------------------------- storage dtypes
def to_bf16_bits(x):
    """float64 -> float32 -> BF16 bit patterns, round to nearest even (no NaNs here)."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def from_bf16_bits(b):
    return (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


STORE = {
    # name: (safetensors tag, encode -> raw array, decode raw -> float64 values)
    'BF16': (lambda x: to_bf16_bits(x), from_bf16_bits),
    'F16': (lambda x: np.asarray(x, dtype=np.float16), lambda r: r.astype(np.float64)),
    'F32': (lambda x: np.asarray(x, dtype=np.float32), lambda r: r.astype(np.float64)),
}


def write_safetensors(path, tensors, dtype):
    """tensors: {name: raw numpy array}; the layout of safetensors' reference writer (one dtype:
    tensors ordered by name), header padded with spaces to a multiple of 8, format 'pt'."""
    header = {'__metadata__': {'format': 'pt'}}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name]).astype(tensors[name].dtype.newbyteorder('<'))
        data = raw.tobytes()
        header[name] = {'dtype': dtype, 'shape': list(raw.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------- reference forward
def rms_norm(x, w, eps):
    # LlamaRMSNorm / Qwen2RMSNorm / Qwen3RMSNorm: x * rsqrt(mean(x^2) + eps), then * weight.
    var = np.mean(x * x, axis=-1, keepdims=True)
    return w * (x / np.sqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def rope_cos_sin(t, head_dim, theta):
    # default rope: inv_freq = 1 / theta^(arange(0, dim, 2) / dim); emb = cat(freqs, freqs)
    inv_freq = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    freqs = np.outer(np.arange(t, dtype=np.float64), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)  # [T, hd]


def repeat_kv(x, n_rep):
    # [B, kvH, T, hd] -> [B, kvH * n_rep, T, hd]; head h reads kv head h // n_rep
    return np.repeat(x, n_rep, axis=1)


def linear(x, w, b=None):
    y = x @ w.T  # nn.Linear: weight [out, in]
    return y if b is None else y + b


def silu(x):
    return x / (1.0 + np.exp(-x))


def gelu_tanh(x):
    # torch.nn.functional.gelu(x, approximate='tanh'), transformers' 'gelu_pytorch_tanh'
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def mlp(cfg, W, p, h):
    if cfg['model_type'] == 'arcee':  # ArceeMLP (NemotronMLP): down_proj(act(up_proj(x)))
        assert cfg['hidden_act'] == 'gelu_pytorch_tanh', cfg['hidden_act']
        return linear(gelu_tanh(linear(h, W[p + 'mlp.up_proj.weight'])), W[p + 'mlp.down_proj.weight'])
    assert cfg.get('hidden_act', 'silu') == 'silu', cfg['hidden_act']
    return linear(silu(linear(h, W[p + 'mlp.gate_proj.weight'])) * linear(h, W[p + 'mlp.up_proj.weight']), W[p + 'mlp.down_proj.weight'])


def reference_logits(cfg, W, ids):
    """Eager forward of a Qwen2/Llama/Qwen3/Arcee causal LM in float64. ids: [B, T] -> logits [B, T, V]."""
    kind = cfg['model_type']
    H = cfg['num_attention_heads']
    KV = cfg['num_key_value_heads']
    hd = cfg.get('head_dim', cfg['hidden_size'] // H)
    eps = cfg['rms_norm_eps']
    B, T = ids.shape
    x = W['model.embed_tokens.weight'][ids]  # [B, T, d]
    theta = cfg['rope_theta'] if 'rope_theta' in cfg else cfg['rope_parameters']['rope_theta']
    cos, sin = rope_cos_sin(T, hd, theta)
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        residual = x
        h = rms_norm(x, W[p + 'input_layernorm.weight'], eps)
        bias = (lambda n: W[p + f'self_attn.{n}_proj.bias']) if kind == 'qwen2' else (lambda n: None)
        q = linear(h, W[p + 'self_attn.q_proj.weight'], bias('q')).reshape(B, T, H, hd)
        k = linear(h, W[p + 'self_attn.k_proj.weight'], bias('k')).reshape(B, T, KV, hd)
        v = linear(h, W[p + 'self_attn.v_proj.weight'], bias('v')).reshape(B, T, KV, hd)
        if kind == 'qwen3':
            q = rms_norm(q, W[p + 'self_attn.q_norm.weight'], eps)
            k = rms_norm(k, W[p + 'self_attn.k_norm.weight'], eps)
        q, k, v = (a.transpose(0, 2, 1, 3) for a in (q, k, v))  # [B, heads, T, hd]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, H // KV), repeat_kv(v, H // KV)
        scores = q @ k.transpose(0, 1, 3, 2) * hd ** -0.5 + mask
        scores = scores - scores.max(axis=-1, keepdims=True)
        att = np.exp(scores)
        att = att / att.sum(axis=-1, keepdims=True)
        o = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, H * hd)
        x = residual + linear(o, W[p + 'self_attn.o_proj.weight'])
        residual = x
        h = rms_norm(x, W[p + 'post_attention_layernorm.weight'], eps)
        x = residual + mlp(cfg, W, p, h)
    x = rms_norm(x, W['model.norm.weight'], eps)
    head = W['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else W['lm_head.weight']
    return linear(x, head)


# ----------------------------------------------------------------------------- fixtures
def make_weights(cfg, rng):
    """Random weights in HF names and [out, in] layouts, scaled so attention is far from uniform."""
    kind = cfg['model_type']
    d, V, F = cfg['hidden_size'], cfg['vocab_size'], cfg['intermediate_size']
    H, KV = cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd = cfg.get('head_dim', d // H)
    W = {'model.embed_tokens.weight': rng.normal(0, 1.0, (V, d))}
    mat = lambda o, i: rng.normal(0, 1.0 / np.sqrt(i), (o, i))  # noqa: E731
    norm = lambda n: 1.0 + rng.normal(0, 0.2, (n,))  # noqa: E731
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        W[p + 'input_layernorm.weight'] = norm(d)
        W[p + 'self_attn.q_proj.weight'] = 2.0 * mat(H * hd, d)
        W[p + 'self_attn.k_proj.weight'] = 2.0 * mat(KV * hd, d)
        W[p + 'self_attn.v_proj.weight'] = mat(KV * hd, d)
        W[p + 'self_attn.o_proj.weight'] = mat(d, H * hd)
        if kind == 'qwen2':
            W[p + 'self_attn.q_proj.bias'] = rng.normal(0, 0.5, (H * hd,))
            W[p + 'self_attn.k_proj.bias'] = rng.normal(0, 0.5, (KV * hd,))
            W[p + 'self_attn.v_proj.bias'] = rng.normal(0, 0.5, (KV * hd,))
        if kind == 'qwen3':
            W[p + 'self_attn.q_norm.weight'] = 2.0 * norm(hd)
            W[p + 'self_attn.k_norm.weight'] = 2.0 * norm(hd)
        W[p + 'post_attention_layernorm.weight'] = norm(d)
        if kind != 'arcee':
            W[p + 'mlp.gate_proj.weight'] = mat(F, d)
        W[p + 'mlp.up_proj.weight'] = mat(F, d)
        W[p + 'mlp.down_proj.weight'] = mat(d, F)
    W['model.norm.weight'] = norm(d)
    if not cfg['tie_word_embeddings']:
        W['lm_head.weight'] = mat(V, d)
    return W


FIXTURES = {
    'qwen2': ('BF16', 11, {
        'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'hidden_act': 'silu',
        'vocab_size': 48, 'hidden_size': 32, 'intermediate_size': 32, 'num_hidden_layers': 2,
        'num_attention_heads': 4, 'num_key_value_heads': 2, 'max_position_embeddings': 64,
        'rms_norm_eps': 1e-6, 'rope_theta': 1000000.0, 'tie_word_embeddings': True,
        'use_sliding_window': False, 'sliding_window': 64, 'max_window_layers': 2, 'rope_scaling': None,
        'attention_dropout': 0.0, 'torch_dtype': 'bfloat16', 'bos_token_id': 1, 'eos_token_id': 2,
    }),
    'llama': ('F32', 12, {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'hidden_act': 'silu',
        'vocab_size': 32, 'hidden_size': 16, 'intermediate_size': 24, 'num_hidden_layers': 2,
        'num_attention_heads': 4, 'num_key_value_heads': 4, 'max_position_embeddings': 128,
        'rms_norm_eps': 1e-5, 'rope_theta': 500000.0, 'rope_scaling': None, 'tie_word_embeddings': False,
        'attention_bias': False, 'mlp_bias': False, 'torch_dtype': 'float32', 'bos_token_id': 1, 'eos_token_id': 2,
    }),
    'qwen3': ('F16', 13, {
        'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'hidden_act': 'silu',
        'vocab_size': 40, 'hidden_size': 16, 'intermediate_size': 32, 'num_hidden_layers': 2,
        'num_attention_heads': 4, 'num_key_value_heads': 2, 'head_dim': 8, 'max_position_embeddings': 64,
        'rms_norm_eps': 1e-6, 'rope_theta': 1000000.0, 'rope_scaling': None, 'tie_word_embeddings': False,
        'attention_bias': False, 'use_sliding_window': False, 'torch_dtype': 'float16', 'bos_token_id': 1, 'eos_token_id': 2,
    }),
    'arcee': ('F32', 14, {
        'architectures': ['ArceeForCausalLM'], 'model_type': 'arcee', 'hidden_act': 'gelu_pytorch_tanh',
        'vocab_size': 24, 'hidden_size': 16, 'intermediate_size': 40, 'num_hidden_layers': 2,
        'num_attention_heads': 2, 'num_key_value_heads': 1, 'head_dim': 8, 'max_position_embeddings': 64,
        'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'rope_scaling': None, 'tie_word_embeddings': True,
        'attention_bias': False, 'mlp_bias': False, 'torch_dtype': 'float32', 'bos_token_id': 1, 'eos_token_id': 2,
    }),
}


def main():
    for name, (dtype, seed, cfg) in FIXTURES.items():
        rng = np.random.default_rng(seed)
        encode, decode = STORE[dtype]
        raw = {k: encode(v) for k, v in make_weights(cfg, rng).items()}
        stored = {k: decode(v) for k, v in raw.items()}  # what a loader reads back, exactly
        ids = rng.integers(0, cfg['vocab_size'], size=(2, 12))
        logits = reference_logits(cfg, stored, ids)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'config.json'), 'w') as f:
            json.dump(cfg, f, indent=2)
            f.write('\n')
        write_safetensors(os.path.join(d, 'model.safetensors'), raw, dtype)
        with open(os.path.join(d, 'expected.json'), 'w') as f:
            json.dump({
                'reference': 'float64 numpy eager forward, scripts/hf-fixtures/make_fixtures.py',
                'dtype': dtype,
                'ids': ids.tolist(),
                'logits': [[[float(f'{v:.9g}') for v in row] for row in seq] for seq in logits],
            }, f, separators=(',', ':'))
            f.write('\n')
        print(f'{name}: {dtype}, {sum(v.size for v in raw.values())} weights, max |logit| {np.abs(logits).max():.3f}')


if __name__ == '__main__':
    main()
