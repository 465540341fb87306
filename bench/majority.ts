// npm run bench:majority — is the majority of G sampled solver answers the true answer? The
// measurement R-Zero's majority-vote pseudo-labels rely on, for a warm-started r-zero policy, by
// majority fraction p̂ and by question size (binary operators).
//
// 1. The policy: --from DIR (an export folder `<run>/<id>/export`, a checkpoint folder or a
//    checkpoints folder, read with readSourceWeights). Without --from, the bench first makes one:
//    the config (configs/r-zero.yaml) through runLocalExperiment — the shipped warm start, then one
//    self-play step (budget.maxSteps 1, maxMinutes 25, eval.every 0) — and measures its export.
//    --keep keeps that run folder and names the export on stderr, for a later --from.
// 2. For each difficulty d (--difficulties, default 1..6; the warm start and the held-out suite
//    use 1..4), --questions N questions from the arithmetic generator (randomExpression) with a
//    bench rng (seed --seed, mixed so that it is not the held-out stream). Skipped and redrawn:
//    questions of the held-out set (heldOutSet(eval.seed, eval.episodes)) and questions the
//    recipe would reject (checkQuestion: too long, too deep, answer too long).
// 3. Each question is answered G times exactly as the recipe's rollout does (solverPrompt, the
//    answer mask and budget, rollout.temperature and topP, stop at <eos>), --batch questions × G
//    rows per generate() call; each answer is parsed as the judge does, the pseudo-label is
//    majorityVote, informative is isInformative(p̂, 0.3, 0.8). Every group also goes through
//    judgeArith itself, and the bench stops if its stats disagree with its own reading.
//
// Prints one JSON line on stdout (progress and a markdown table on stderr):
// {"bench":"majority","from":…,"group":G,"temperature":T,"questions":…,"trueAccuracy":…,
//  "byBucket":[{"p":"[0,0.3)","n","right","majorityRight"},…],
//  "bands":[{"band":"[0.3,0.7]",…},{"band":"[0.3,0.8]",…}],
//  "byDifficulty":[{"d","n","right","majorityRight","trueAccuracy","informative","informativeShare",
//                   "majorityRightInformative","bands"}],
//  "table":[{"d","bucket","n","right","majorityRight"}], "skipped":{…}, …}
//   right            questions whose majority label is the true answer; majorityRight = right / n
//   trueAccuracy     mean fraction of the G sampled answers that are the true answer
//   informative      p̂ in [0.3, 0.8] (spar's default informativeMin/Max, R-Zero's kept range);
//                    [0.3,0.8] is the range the R-Zero paper keeps
// Flags: --from DIR, --config FILE (configs/r-zero.yaml), --questions N per difficulty (200),
// --difficulties 1,2,… (1..6), --group G (rollout.groupSize), --temperature T (rollout.temperature),
// --seed S (7; must differ from eval.seed), --batch Q (32 questions per generate call), --keep.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText, parseExperiment, type ExperimentConfig, type Sample } from '@spar/core';
import { Policy, readSourceWeights, shapeMismatch } from '@spar/policy';
import { EOS_ID, type Vocabulary } from '@spar/policy/schema';
import { builtinRecipes, modelConfigFor, policyHandle, vocabularyFor, type PolicyHandle, type RZeroOptions } from '@spar/recipes';
import { answerBudget, checkQuestion, heldOutSet, judgeArith, majorityVote, parseAnswer, randomExpression, solverPrompt } from '@spar/recipes/arith';
import { seededRng } from '@spar/recipes/games';
import { isInformative } from '../packages/recipes/src/arith/judge.ts';
import { answerMask, DEFAULT_CONTEXT } from '../packages/recipes/src/arith/masks.ts';
import { REPO_ROOT, runLocalExperiment } from '../packages/cli/src/local.ts';
import { markdownTable, summarise, type Outcome } from './majority-table.ts';

/** spar's default informative band (RZeroOptionsSchema: informativeMin, informativeMax): R-Zero's p̂ in [0.3, 0.8]. */
const BAND = { min: 0.3, max: 0.8 };
/** Draws per wanted question before a difficulty gives up (held-out hits and rejected questions). */
const MAX_DRAWS_PER_QUESTION = 50;

class BenchError extends Error {}
const say = (m: string) => process.stderr.write(`majority: ${m}\n`);

function parseFlags() {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      config: { type: 'string', default: join(REPO_ROOT, 'configs', 'r-zero.yaml') },
      questions: { type: 'string', default: '200' },
      difficulties: { type: 'string', default: '1,2,3,4,5,6' },
      group: { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string', default: '7' },
      batch: { type: 'string', default: '32' },
      keep: { type: 'boolean', default: false },
    },
  });
  const int = (flag: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new BenchError(`--${flag} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  const difficulties = values.difficulties.split(',').map((d) => int('difficulties', d.trim(), 1));
  const temperature = values.temperature === undefined ? undefined : Number(values.temperature);
  if (temperature !== undefined && !(temperature >= 0 && Number.isFinite(temperature))) throw new BenchError(`--temperature must be a number ≥ 0, got '${values.temperature}'`);
  return {
    from: values.from, config: resolve(values.config), questions: int('questions', values.questions, 1), difficulties,
    group: values.group === undefined ? undefined : int('group', values.group, 1), temperature,
    seed: int('seed', values.seed, 0), batch: int('batch', values.batch, 1), keep: values.keep,
  };
}

type Flags = ReturnType<typeof parseFlags>;

/** A warm-started policy of the config: the shipped warm start, one self-play step, its export. */
async function producePolicy(f: Flags, dataDir: string): Promise<{ from: string; warmStart: unknown }> {
  say(`no --from: running ${f.config} (warm start, then one self-play step) in ${dataDir}`);
  const t0 = Date.now();
  const res = await runLocalExperiment({
    config: f.config, dataDir, summary: false,
    override: (c) => {
      const cfg = c as { budget?: object; eval?: object };
      return { ...c, budget: { ...cfg.budget, maxSteps: 1, maxMinutes: 25 }, eval: { ...cfg.eval, every: 0 } };
    },
  });
  const rec = res.record;
  if (!rec) throw new BenchError(`the run failed before submission (code ${res.code}); logs in ${dataDir}/logs`);
  if (rec.state !== 'completed' && rec.state !== 'stopped') throw new BenchError(`the run (${rec.id}) ended ${rec.state}${rec.reason ? `: ${rec.reason}` : ''}; logs in ${dataDir}/logs`);
  if (rec.warmStart && rec.warmStart.state !== 'done') throw new BenchError(`the run (${rec.id}) did not finish its warm start: ${JSON.stringify(rec.warmStart)}`);
  const onnx = rec.artifacts?.onnx;
  if (!onnx) throw new BenchError(`the run (${rec.id}) recorded no export (artifacts ${JSON.stringify(rec.artifacts ?? null)})`);
  const warmStart = rec.warmStart && { steps: rec.warmStart.step, seconds: rec.warmStart.seconds, eval: rec.warmStart.eval?.arith ?? null };
  say(`run ${rec.id} ${rec.state} in ${Math.round((Date.now() - t0) / 1000)} s (self-play steps ${rec.step}); warm start ${JSON.stringify(warmStart ?? null)}; export ${dirname(onnx)}`);
  return { from: dirname(onnx), warmStart };
}

/** Draw `n` questions of difficulty d the recipe accepts and the held-out set does not hold. */
function questionsFor(d: number, n: number, seed: number, o: RZeroOptions, heldOut: ReadonlySet<string>, skipped: Record<string, number>) {
  // A stream per (seed, d), mixed with a constant other than the held-out set's (0x41524954).
  const rng = seededRng((Math.imul(seed + 1, 0x9e3779b1) ^ (0x4d414a00 + d)) >>> 0);
  const out: { question: string; truth: string }[] = [];
  for (let draw = 0; out.length < n; draw++) {
    if (draw >= n * MAX_DRAWS_PER_QUESTION) throw new BenchError(`difficulty ${d}: only ${out.length} of ${n} usable questions in ${draw} draws (skipped ${JSON.stringify(skipped)})`);
    const q = randomExpression(rng, d);
    let checked;
    try {
      checked = checkQuestion(q.question, o);
    } catch {
      skipped.rejected = (skipped.rejected ?? 0) + 1;
      continue;
    }
    if (heldOut.has(checked.canonical)) { skipped.heldOut = (skipped.heldOut ?? 0) + 1; continue; }
    out.push({ question: checked.canonical, truth: String(checked.value) });
  }
  return out;
}

/** The judge's reading of one answer (judge.ts `response` + parseAnswer): undefined = malformed. */
function readAnswer(vocab: Vocabulary, tokens: Int32Array, maxDigits: number): string | undefined {
  const ended = tokens.at(-1) === EOS_ID;
  if (!ended) return undefined;
  const body = tokens.subarray(0, -1);
  return body.includes(EOS_ID) ? undefined : parseAnswer(vocab.decode(body), maxDigits);
}

interface Measured extends Outcome { readonly wellFormed: number; readonly G: number }

/** G answers for each question, as rollout() samples them, in batches of questions with the same answer budget. */
async function measure(
  policy: PolicyHandle, config: ExperimentConfig<RZeroOptions>, d: number, qs: readonly { question: string; truth: string }[],
  G: number, temperature: number, batch: number, nextSeed: () => number,
): Promise<Measured[]> {
  const o = config.options;
  const vocab = policy.vocab;
  const context = config.policy.context ?? DEFAULT_CONTEXT;
  const items = qs.map((q) => {
    const prompt = solverPrompt(vocab, q.question);
    return { ...q, prompt, budget: answerBudget(o, context, prompt.length) };
  });
  const byBudget = new Map<number, typeof items>();
  for (const it of items) {
    if (it.budget < 1) throw new BenchError(`${it.question}: no room for an answer in policy.context ${context}`);
    byBudget.set(it.budget, [...(byBudget.get(it.budget) ?? []), it]);
  }
  const out: Measured[] = [];
  for (const [budget, group] of byBudget) {
    for (let start = 0; start < group.length; start += batch) {
      const chunk = group.slice(start, start + batch);
      const masks = chunk.map((it) => answerMask(vocab, o, context, it.prompt.length));
      const prompts = chunk.flatMap((it) => Array.from({ length: G }, () => it.prompt));
      const res = await policy.generate(prompts, {
        maxNewTokens: budget + 1, temperature, topP: config.rollout.topP, stop: [EOS_ID], seed: nextSeed(),
        mask: o.constrain ? (row, generated) => masks[Math.floor(row / G)]!(row, generated) : undefined,
      });
      chunk.forEach((it, k) => {
        const rows = res.rows.slice(k * G, (k + 1) * G);
        const answers = rows.map((r) => readAnswer(vocab, r.tokens, o.maxAnswerDigits));
        const vote = majorityVote(answers);
        const right = vote.label !== undefined && vote.label === it.truth;
        const trueAccuracy = answers.filter((a) => a === it.truth).length / G;
        // The judge itself, on the same samples: its stats must agree with the reading above.
        const samples: Sample[] = rows.map((r) => ({
          tokens: [...it.prompt, ...r.tokens], promptLength: it.prompt.length, logprobs: [...r.logprobs],
          allowed: r.allowed.map((a) => a ?? null), policyVersion: res.version, role: 'solver',
        }));
        const stats = judgeArith({ question: it.question, references: [] }, samples.map((sample) => ({ sample })), undefined, o, vocab, context).stats ?? {};
        if (stats.majorityFraction !== vote.p || stats.pseudoLabelAccuracy !== (right ? 1 : 0) || stats.trueAccuracy !== trueAccuracy) {
          throw new BenchError(`${it.question}: the judge reads ${JSON.stringify(stats)}, the bench p̂ ${vote.p} label ${vote.label} (truth ${it.truth})`);
        }
        out.push({ d, p: vote.p, right, informative: isInformative(vote.p, BAND.min, BAND.max), trueAccuracy, wellFormed: answers.filter((a) => a !== undefined).length, G });
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const f = parseFlags();
  const registry = builtinRecipes();
  const config = parseExperiment(parseConfigText(readFileSync(f.config, 'utf8')), registry) as ExperimentConfig<RZeroOptions>;
  if (config.recipe !== 'r-zero') throw new BenchError(`${f.config}: recipe ${config.recipe}, not r-zero`);
  if (f.seed === config.eval.seed) throw new BenchError(`--seed ${f.seed} is the config's eval.seed: pick another`);
  const G = f.group ?? config.rollout.groupSize;
  const temperature = f.temperature ?? config.rollout.temperature;

  let dataDir: string | undefined;
  let produced: unknown;
  let from = f.from ? resolve(f.from) : undefined;
  try {
    if (!from) {
      dataDir = mkdtempSync(join(tmpdir(), 'spar-majority-'));
      const p = await producePolicy(f, dataDir);
      from = p.from;
      produced = p.warmStart;
    }
    const vocab = vocabularyFor(registry.get('r-zero'), config);
    const source = await readSourceWeights(from);
    const model = modelConfigFor(config, vocab);
    const policy = await Policy.create(model, { worker: false });
    try {
      const why = shapeMismatch(policy.config, source.config);
      if (why) throw new BenchError(`${source.from} does not fit ${f.config}'s policy: ${why}`);
      await policy.setState({ params: source.params, step: 0, version: 1 });
      say(`policy from ${source.from}; G ${G}, temperature ${temperature}, ${f.questions} questions per difficulty ${f.difficulties.join(',')}, seed ${f.seed}`);
      const handle = policyHandle(vocab, policy);
      const heldOut = new Set(heldOutSet(config.eval.seed, config.eval.episodes).map((q) => q.question));
      const sampling = seededRng((f.seed ^ 0x53414d50) >>> 0);
      const nextSeed = () => Math.floor(sampling() * 2 ** 31);
      const skipped: Record<string, number> = { heldOut: 0, rejected: 0 };
      const outcomes: Measured[] = [];
      const t0 = Date.now();
      for (const d of f.difficulties) {
        const qs = questionsFor(d, f.questions, f.seed, config.options, heldOut, skipped);
        const got = await measure(handle, config, d, qs, G, temperature, f.batch, nextSeed);
        outcomes.push(...got);
        const right = got.filter((x) => x.right).length;
        say(`d ${d}: majority right ${right}/${got.length}, true accuracy ${(got.reduce((s, x) => s + x.trueAccuracy, 0) / got.length).toFixed(3)}, informative ${got.filter((x) => x.informative).length} (${Math.round((Date.now() - t0) / 1000)} s)`);
      }
      const s = summarise(outcomes, f.difficulties);
      const answers = outcomes.reduce((a, x) => a + x.G, 0);
      const line = {
        bench: 'majority', from: source.from, config: f.config.replace(`${REPO_ROOT}/`, ''), group: G, temperature, topP: config.rollout.topP, seed: f.seed,
        questions: s.questions, trueAccuracy: s.trueAccuracy,
        formatRate: answers ? +(outcomes.reduce((a, x) => a + x.wellFormed, 0) / answers).toFixed(4) : null,
        byBucket: s.byBucket, bands: s.bands, byDifficulty: s.byDifficulty, table: s.table, skipped,
        ...(produced ? { warmStart: produced } : {}), seconds: Math.round((Date.now() - t0) / 1000),
      };
      process.stderr.write(`\nmajority label right / questions, by operators (rows) and p̂ (columns); G ${G}, temperature ${temperature}:\n\n${markdownTable(s)}\n\n`);
      console.log(JSON.stringify(line));
    } finally {
      await policy.close();
    }
  } finally {
    if (dataDir) {
      if (f.keep) say(`run folder kept in ${dataDir}; rerun with --from ${from ?? dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

try {
  await main();
} catch (err) {
  if (!(err instanceof BenchError)) throw err;
  say(err.message);
  process.exitCode = 1;
}
