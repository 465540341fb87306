import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { main } from '@spar/cli';
import { keys, type ExperienceEntry } from '@spar/core';
import { loadHfPolicy, loadHfTextModel, loadHfTokenizer, readHfModel, readSourceWeights, type TextCodec } from '@spar/policy';
import { startStack, type Stack } from '@spar/testing';
import { writeTinyChatModel, type TinyChatModel } from '@spar/testing/tiny-chat-model';
import { experimentsApi } from './experiments-api.ts';

// r-zero on an imported Hugging Face chat model (warmStart.from: hf) through the five services:
// a tiny Qwen2-layout model written here (nothing downloaded), submitted by path; the learner
// starts from its weights, the proposer and solvers generate chat text with them, the judge
// reads the answers from the decoded text, and the export is a Hugging Face folder again.
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CONTEXT = 512;

let stack: Stack;
let redis: Redis;
let api: ReturnType<typeof experimentsApi>;
let root: string;
let tiny: TinyChatModel;
let codec: TextCodec;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'spar-hf-warm-'));
  tiny = await writeTinyChatModel(join(root, 'model'));
  codec = (await loadHfTextModel(tiny.dir, { context: CONTEXT })).codec;
  stack = await startStack(ROOT, { env: { learner: { SPAR_POLL_MS: '100' } } });
  redis = new Redis(stack.redis.url);
  api = experimentsApi(stack);
});
after(async () => {
  redis?.disconnect();
  await stack?.stop();
  await rm(root, { recursive: true, force: true });
});

const experiment = (name: string, over: object = {}) => ({
  name, recipe: 'r-zero',
  options: { textQuestionTokens: 16, textAnswerTokens: 12, informativeMin: 0, informativeMax: 1 },
  policy: { context: CONTEXT },
  rollout: { groupSize: 4, concurrency: 2, maxQueuedTasks: 4 },
  learner: { batchSize: 8, maxStaleness: 1000, checkpointEvery: 1000 },
  eval: { every: 0, episodes: 8 },
  budget: { maxSteps: 3, maxMinutes: 10 },
  warmStart: { from: 'hf', path: tiny.dir },
  ...over,
});

/** Every entry appended to the experience stream until `done` resolves (blocking reads, no sleeps). */
async function collect(id: string, done: Promise<unknown>): Promise<ExperienceEntry[]> {
  const reader = redis.duplicate();
  const out: ExperienceEntry[] = [];
  let last = '0';
  let finished = false;
  void done.finally(() => { finished = true; });
  try {
    while (!finished) {
      const res = await reader.xread('COUNT', 100, 'BLOCK', 500, 'STREAMS', keys.experience(id), last);
      for (const [, entries] of res ?? []) {
        for (const [eid, fields] of entries) {
          last = eid;
          out.push(JSON.parse(fields[fields.indexOf('d') + 1]!) as ExperienceEntry);
        }
      }
    }
  } finally {
    reader.disconnect();
  }
  return out;
}

/** Submit `body`, run it to completion (3 steps), and return its record and every trajectory it appended. */
async function runToCompletion(body: object) {
  const id = await api.submit(body);
  const finished = api.finished(id);
  const entries = collect(id, finished);
  const done = await finished;
  assert.equal(done.state, 'completed', done.reason);
  assert.equal(done.step, 3);
  return { id, done, trajectories: (await entries).flatMap((e) => e.trajectories) };
}

test('r-zero from an imported model: its weights start self-play, workers generate chat text with them, the judge reads it, the export loads back', async () => {
  const { id, done, trajectories } = await runToCompletion(experiment('hf r-zero'));

  // The warm start loaded the imported weights (no evaluation of the random initialisation before).
  const ws = done.warmStart!;
  assert.equal(ws.state, 'done');
  assert.equal(ws.evalBefore, undefined);
  assert.ok(ws.eval?.arith, 'evaluated on the imported weights');
  const warm = await readSourceWeights(join(stack.dataDir, 'runs', id, 'warmstart', 'checkpoints'));
  for (const [name, p] of Object.entries(tiny.params)) assert.deepEqual(warm.params[name], p, `${name}: the imported weights, bit for bit`);

  // What the workers generated with: the first published version is the imported model.
  assert.ok(trajectories.length >= 24, `three batches of 8 (got ${trajectories.length})`);
  const first = Math.min(...trajectories.map((t) => t.sample.policyVersion));
  const solver = trajectories.find((t) => t.segment === 'solver' && t.sample.policyVersion === first)!;
  const challenger = trajectories.find((t) => t.segment === 'challenger')!;
  assert.ok(codec.decode(solver.sample.tokens).startsWith('<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>user\nCompute '));
  assert.ok(codec.decode(challenger.sample.tokens).startsWith('<|im_start|>system\nYou write arithmetic questions'));
  assert.match(codec.decode(challenger.sample.tokens.slice(challenger.sample.promptLength)), /^<question>[0-9+]+<\/question><\|im_end\|>$/);
  const { policy } = await loadHfPolicy(tiny.dir, { context: CONTEXT, worker: false });
  try {
    const [scored] = await policy.score([solver.sample.tokens]);
    solver.sample.logprobs.forEach((lp, j) => {
      const want = scored![solver.sample.promptLength + j]!;
      assert.ok(Math.abs(lp - want) < 1e-3, `token ${j}: behaviour log-prob ${lp}, imported model ${want}`);
    });
  } finally {
    await policy.close();
  }

  // The judge's stats, over the groups trained, carry the format rate.
  const stats = done.evaluations.at(-1)!.judgeStats!;
  assert.equal(typeof stats.formatRate, 'number');
  assert.ok(stats.formatRate! >= 0 && stats.formatRate! <= 1);
  assert.ok(trajectories.some((t) => t.segment === 'solver' && !t.formatOk && t.reward === 0), 'malformed answers: reward 0, formatOk false');

  // The export (ONNX with the model's own tokenizer files) becomes a Hugging Face folder that loads.
  const out = join(root, 'export-hf');
  assert.equal(await main(['export', id, '--format', 'hf', '--out', out, '--data-dir', join(stack.dataDir, 'runs')]), 0);
  const back = await readHfModel(out, { context: CONTEXT });
  const last = await readSourceWeights(join(stack.dataDir, 'runs', id, 'export'));
  assert.equal(back.modelType, 'qwen2');
  for (const [name, p] of Object.entries(last.params)) assert.deepEqual(back.params[name], p, name);
  const tok = await loadHfTokenizer(out);
  assert.deepEqual(tok.eos, codec.eos);
  assert.equal(tok.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
});

test('spiral-games (TicTacToe) from an imported model: both seats play from SPIRAL\'s chat prompt, the judge replays the boxed moves, forfeits lose', async () => {
  // The game prompts (the board in words) are about 520 characters: this model gets 1024 positions.
  const model = await writeTinyChatModel(join(root, 'model-1k'), { context: 1024 });
  const { done, trajectories } = await runToCompletion(experiment('hf spiral', {
    recipe: 'spiral-games',
    options: { games: ['tictactoe'], constrainActions: 'none', textActionTokens: 12 },
    policy: { context: 1024 },
    eval: { every: 0, episodes: 4 },
    warmStart: { from: 'hf', path: model.dir },
  }));
  const ws = done.warmStart!;
  assert.equal(ws.eval?.['tictactoe-vs-random']?.games, 4, 'the imported model was evaluated against the random player');

  assert.ok(trajectories.length >= 24, `three batches of 8 (got ${trajectories.length})`);
  assert.ok(trajectories.every((t) => t.segment === `tictactoe/${t.sample.role}`), 'RAE keyed by seat');
  for (const t of trajectories) {
    assert.ok(codec.decode(t.sample.tokens.slice(0, t.sample.promptLength)).startsWith('<|im_start|>user\nYou are playing a two-player zero-sum game. Make valid actions to win.\nObservation: Tic Tac Toe.'));
    assert.ok(t.sample.tokens.length - t.sample.promptLength <= 12);
    assert.equal(t.sample.allowed, undefined, 'nothing masked');
  }
  // The bigram model boxes a digit about half the time: legal moves and forfeits both reach the learner.
  assert.ok(trajectories.some((t) => t.correct), 'some boxed moves were legal');
  assert.ok(trajectories.some((t) => !t.formatOk && t.reward === -1), 'a malformed reply forfeits: −1');
});

test('refused at submit (400): a missing folder, a folder without tokenizer.json, policy shape fields, prompts that leave no room for their replies', async () => {
  const post = async (body: object) => {
    const r = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 400);
    return ((await r.json()) as { errors: { path: string; message: string }[] }).errors;
  };
  const missing = await post(experiment('hf missing', { warmStart: { from: 'hf', path: join(root, 'nowhere') } }));
  assert.equal(missing[0]!.path, '/warmStart/path');
  assert.match(missing[0]!.message, /nowhere: no such folder .*every service sees at this path/);
  const bare = await writeTinyChatModel(join(root, 'no-tokenizer'));
  await unlink(join(bare.dir, 'tokenizer.json'));
  const noTok = await post(experiment('hf no tokenizer', { warmStart: { from: 'hf', path: bare.dir } }));
  assert.equal(noTok[0]!.path, '/warmStart/path');
  assert.match(noTok[0]!.message, /tokenizer\.json: missing/);
  const shaped = await post(experiment('hf shaped', { policy: { context: CONTEXT, dModel: 64, heads: 4 } }));
  assert.deepEqual(shaped.map((e) => e.path).sort(), ['/policy/dModel', '/policy/heads']);
  assert.match(shaped[0]!.message, /shape comes from .*config\.json/);
  // The board in words is about 520 characters: in this character-level model's 512 positions a
  // TicTacToe move prompt does not fit at all, and r-zero's solver needs its answer budget too.
  const games = await post({ ...experiment('hf games'), recipe: 'spiral-games', options: { games: ['tictactoe'], constrainActions: 'none' } });
  assert.deepEqual(games.map((e) => e.path), ['/policy/context']);
  assert.match(games[0]!.message, /the longest tictactoe move prompt is \d+ tokens with this model's tokenizer; with options\.textActionTokens 256 it needs a context of ≥ \d+, and the experiment runs 512/);
  const answers = await post(experiment('hf long answers', { options: { textQuestionTokens: 16, textAnswerTokens: 500 } }));
  assert.deepEqual(answers.map((e) => e.path), ['/policy/context']);
  assert.match(answers[0]!.message, /the longest solver prompt is \d+ tokens .* options\.textAnswerTokens 500/);
});
