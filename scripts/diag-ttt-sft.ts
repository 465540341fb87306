// Diagnostic: can the policy network represent good TicTacToe play at all? Supervised training
// on minimax-optimal moves for every reachable position, then the held-out evaluation.
//   npx tsx scripts/diag-ttt-sft.ts [steps]
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseExperiment } from '@spar/core';
import { Learner, Policy } from '@spar/policy';
import { builtinRecipes, modelConfigFor, vocabularyFor, type PolicyHandle } from '@spar/recipes';
import { optimalActions, reachableStates, ticTacToe } from '@spar/recipes/games';
import { promptTokens } from '../packages/recipes/src/spiral/games.ts';

const reg = builtinRecipes();
const raw = YAML.parse(readFileSync('configs/tictactoe.yaml', 'utf8'));
if (process.env.D) raw.policy.dModel = Number(process.env.D);
if (process.env.L) raw.policy.layers = Number(process.env.L);
if (process.env.POS) raw.policy.positions = process.env.POS;
const config = parseExperiment(raw, reg);
const recipe = reg.get(config.recipe);
const vocab = vocabularyFor(recipe, config);
const policy = await Policy.create(modelConfigFor(config, vocab), { worker: false });
const learner = await Learner.create(policy, { kind: 'sft' }, { lr: Number(process.env.LR ?? 3e-3) });
const data = reachableStates().filter((s) => !ticTacToe.isTerminal(s)).flatMap((s) => {
  const p = ticTacToe.currentPlayer(s);
  const prompt = promptTokens(vocab, 'tictactoe', s, p);
  const legal = ticTacToe.legalActions(s).map((a) => vocab.id(String(a)));
  return (process.env.ONE ? optimalActions(s).slice(0, 1) : optimalActions(s)).map((a) => ({ tokens: [...prompt, vocab.id(String(a))], mask: [...prompt.map(() => 0), 1], ...(process.env.NOMASK ? {} : { allowed: [...prompt.map(() => null), legal] }) }));
});
const h: PolicyHandle = { vocab, get version() { return policy.version; }, generate: (p, o) => policy.generate(p, o), score: (s) => policy.score(s) };
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
for (let step = 1; step <= Number(process.argv[2] ?? 300); step++) {
  const batch = Array.from({ length: 256 }, () => data[Math.floor(rnd() * data.length)]!);
  const m = await learner.step(batch);
  if (step % 100 === 0) {
    const ev = await recipe.evaluate(h, recipe.evalSuites(config.options), { episodes: 200, seed: 1 }, config.options);
    console.log(step, 'loss', m.loss.toFixed(3), JSON.stringify(ev));
  }
}
// Loss floor (targets are uniform over the optimal moves) and greedy agreement with minimax.
const states = reachableStates().filter((s) => !ticTacToe.isTerminal(s));
let floor = 0;
for (const st of states) { const k = optimalActions(st).length; floor += k * Math.log(k); }
console.log('loss floor', (floor / data.length).toFixed(3));
let agree = 0;
const res = await policy.generate(states.map((st) => promptTokens(vocab, 'tictactoe', st, ticTacToe.currentPlayer(st))), {
  maxNewTokens: 1, temperature: 0, mask: (row) => { const m = new Uint8Array(vocab.size); for (const a of ticTacToe.legalActions(states[row]!)) m[vocab.id(String(a))] = 1; return m; },
});
res.rows.forEach((r, i) => { if (optimalActions(states[i]!).includes(Number(vocab.decode(r.tokens)))) agree++; });
console.log('greedy move is minimax-optimal in', (agree / states.length).toFixed(3), 'of', states.length, 'positions');
await policy.close();
