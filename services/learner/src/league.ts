import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keys, type GateResult, type LeaguePolicy, type LeagueState, type RatedPlayer } from '@spar/core';
import { applyWeights, Policy, policyWeights, type PolicyOptions, type Weights } from '@spar/policy';
import { policyHandle, type EvalReport, type MatchScore, type MatchSide, type PolicyHandle } from '@spar/recipes';
import { ExperimentStore, type ExperimentContext, type ExperimentLease, type Logger, type Metrics, type PolicyPublisher } from '@spar/service-kit';
import { exportPolicy } from './export-policy.ts';
import { heldOutEval } from './held-out-eval.ts';
import { performanceRating, scoreOf, type Results } from './rating.ts';

/** A snapshot in the opponent pool. */
export interface PoolEntry {
  readonly version: number;
  readonly step: number;
  readonly sha256: string;
}

/** What a checkpoint keeps of the league (its metadata `league`); the weights are the snapshot files. */
export interface LeagueMeta {
  readonly best?: LeaguePolicy & { readonly sha256: string };
  readonly latest?: LeaguePolicy;
  readonly ratings: readonly RatedPlayer[];
  readonly gates: readonly GateResult[];
  readonly pool: readonly PoolEntry[];
}

export interface LeagueDeps {
  readonly lease: ExperimentLease;
  readonly store: ExperimentStore;
  readonly publisher: PolicyPublisher;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly runtime: PolicyOptions;
}

const HISTORY = 200;

/** A snapshot file: content-addressed, so a file always holds exactly the weights its name says. */
const fileName = (e: { version: number; sha256: string }) => `v${e.version}-${e.sha256.slice(0, 16)}.safetensors`;

/**
 * config.league: every `snapshotEvery` steps the learning policy's weights become a snapshot. The
 * snapshot joins the opponent pool (the newest `keep`, served to solvers over GetPolicy by
 * version), is rated against the recipe's anchors and the best, and becomes the best only when it
 * beats the best by the margin and is rated no lower (so the best's rating never decreases) —
 * or, with gating.by: exploitability, when its exact exploitability is below the best's.
 */
export class League {
  private meta: LeagueMeta;
  private best?: Policy;

  private constructor(private readonly ctx: ExperimentContext, private readonly d: LeagueDeps, private readonly dir: string, meta: LeagueMeta) {
    this.meta = meta;
  }

  /** The league of `ctx` (from a checkpoint's `saved` state, or new); snapshot files re-served. */
  static async open(ctx: ExperimentContext, d: LeagueDeps, root: string, saved: LeagueMeta | undefined): Promise<League> {
    const dir = join(root, 'snapshots');
    await mkdir(dir, { recursive: true });
    const league = new League(ctx, d, dir, saved ?? { ratings: [], gates: [], pool: [] });
    try {
      await league.restore();
    } catch (err) {
      await league.close();
      throw err;
    }
    return league;
  }

  private get cfg() {
    return this.ctx.config.league!;
  }

  /** Serve the pool's snapshots again and load the best; a snapshot whose file is gone leaves the pool. */
  private async restore(): Promise<void> {
    const pool: PoolEntry[] = [];
    for (const e of this.meta.pool) {
      const w = await this.readSnapshot(e);
      if (w) { this.d.publisher.pin(this.ctx.id, w); pool.push(e); } else this.d.log.warn({ version: e.version }, 'league: snapshot file missing; left out of the pool');
    }
    this.meta = { ...this.meta, pool };
    const best = this.meta.best;
    if (best) {
      const w = await this.readSnapshot(best);
      if (!w) throw new Error(`league: the best policy's snapshot ${fileName(best)} is missing in ${this.dir}`);
      await this.installBest(w);
    }
    await this.prune();
  }

  private async readSnapshot(e: { version: number; sha256: string }): Promise<Weights | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(this.dir, fileName(e))));
    } catch {
      return undefined;
    }
    return createHash('sha256').update(bytes).digest('hex') === e.sha256 ? { version: e.version, sha256: e.sha256, bytes } : undefined;
  }

  private async installBest(w: Weights): Promise<void> {
    this.best ??= await Policy.create(this.ctx.model, this.d.runtime);
    await applyWeights(this.best, w);
  }

  /** The state a checkpoint carries. */
  state(): LeagueMeta {
    return this.meta;
  }

  /** The record's view: best, latest, ratings, gates. */
  view(): LeagueState {
    const { best, latest, ratings, gates } = this.meta;
    const shown = best && { version: best.version, step: best.step, rating: best.rating, ...(best.eval ? { eval: best.eval } : {}), ...(best.exploitability !== undefined ? { exploitability: best.exploitability } : {}) };
    return { ...(shown ? { best: shown } : {}), ...(latest ? { latest } : {}), ratings, gates };
  }

  /** Take, rate and gate a snapshot of `policy` at `step`. */
  async snapshot(policy: Policy, step: number): Promise<GateResult> {
    const t0 = performance.now();
    await this.rateAnchors(step);
    const w = await policyWeights(policy);
    await writeFile(join(this.dir, fileName(w)), w.bytes);
    this.d.publisher.pin(this.ctx.id, w);
    const entry: PoolEntry = { version: w.version, step, sha256: w.sha256 };
    const handle = policyHandle(this.ctx.vocab, policy, this.ctx.text);
    const rated = await this.rate(handle, step);
    const best = this.meta.best;
    const vsBest = rated.vsBest;
    // Exploitability is exact, so "strictly lower" needs no margin; head to head it must beat the
    // best past the margin and be rated no lower (the best's rating never falls).
    const expl = this.cfg.gating.by === 'exploitability' ? await this.ctx.recipe.exploitability!(handle, this.ctx.config.options) : undefined;
    const promoted = !best || (expl !== undefined
      ? expl < (best.exploitability ?? Infinity)
      : scoreOf(vsBest!) >= 0.5 + this.cfg.gating.margin && rated.rating >= best.rating);
    const evalNow = promoted ? await this.evaluate(handle) : undefined;
    if (promoted) await this.installBest(w);
    const me: LeaguePolicy = { version: w.version, step, rating: rated.rating, ...(expl !== undefined ? { exploitability: expl } : {}) };
    const newBest = promoted ? { ...me, sha256: w.sha256, eval: evalNow } : best!;
    const gate: GateResult = {
      step, at: new Date().toISOString(), version: w.version, score: vsBest ? scoreOf(vsBest) : 1, games: vsBest?.games ?? 0,
      rating: rated.rating, promoted, bestRating: newBest.rating, ...(evalNow ? { eval: evalNow } : {}),
      ...(expl !== undefined ? { exploitability: expl, bestExploitability: newBest.exploitability! } : {}),
    };
    const player: RatedPlayer = { player: `v${w.version}`, version: w.version, step, rating: rated.rating, games: rated.games };
    const anchors = this.meta.ratings.filter((r) => r.anchor);
    const snapshots = [...this.meta.ratings.filter((r) => !r.anchor), player].slice(-HISTORY);
    this.meta = {
      best: newBest, latest: me, ratings: [...anchors, ...snapshots], gates: [...this.meta.gates, gate].slice(-HISTORY),
      pool: [...this.meta.pool, entry].slice(-this.cfg.keep),
    };
    await this.prune();
    await this.publishPool();
    await this.d.store.update(this.ctx.id, (r) => ({ ...r, league: this.view() }), this.d.lease);
    this.observe(gate, (performance.now() - t0) / 1000);
    this.d.log.info({ step, version: w.version, rating: Math.round(rated.rating), score: gate.score, promoted, best: newBest.version }, 'league: snapshot gated');
    return gate;
  }

  /** The anchors' ratings, once per experiment: the first is 0, each other from a match against it. */
  private async rateAnchors(step: number): Promise<void> {
    if (this.meta.ratings.some((r) => r.anchor)) return;
    const names = this.ctx.recipe.anchors!(this.ctx.config.options);
    const ratings: RatedPlayer[] = [{ player: names[0]!, anchor: true, rating: 0, games: 0 }];
    for (const [k, name] of names.slice(1).entries()) {
      const m = await this.match(name, names[0]!, step, 100 + k);
      ratings.push({ player: name, anchor: true, rating: performanceRating([{ opponentRating: 0, games: m.games, score: scoreOf(m) * m.games }]), games: m.games });
    }
    this.meta = { ...this.meta, ratings: [...ratings, ...this.meta.ratings] };
  }

  /** Matches against every anchor and the best; the snapshot's rating from all of them. */
  private async rate(handle: PolicyHandle, step: number): Promise<{ rating: number; games: number; vsBest?: MatchScore }> {
    const results: Results[] = [];
    let games = 0;
    const anchors = this.meta.ratings.filter((r) => r.anchor);
    for (const [k, a] of anchors.entries()) {
      const m = await this.match(handle, a.player, step, k);
      results.push({ opponentRating: a.rating, games: m.games, score: scoreOf(m) * m.games });
      games += m.games;
    }
    let vsBest: MatchScore | undefined;
    if (this.meta.best && this.best) {
      vsBest = await this.match(handle, policyHandle(this.ctx.vocab, this.best, this.ctx.text), step, 50);
      results.push({ opponentRating: this.meta.best.rating, games: vsBest.games, score: scoreOf(vsBest) * vsBest.games });
      games += vsBest.games;
    }
    return { rating: performanceRating(results), games, vsBest };
  }

  private match(a: MatchSide, b: MatchSide, step: number, k: number): Promise<MatchScore> {
    const seed = (this.ctx.config.eval.seed + step * 7919 + k * 104729) % 2 ** 31;
    return this.ctx.recipe.match!(a, b, { games: this.cfg.gating.games, seed }, this.ctx.config.options);
  }

  private evaluate(handle: PolicyHandle): Promise<EvalReport> {
    return heldOutEval(this.ctx, handle);
  }

  /** Keep the pool's and the best's snapshot files and served copies; drop the rest. */
  private async prune(): Promise<void> {
    const keep = new Set([...this.meta.pool, ...(this.meta.best ? [this.meta.best] : [])].map(fileName));
    for (const f of await readdir(this.dir)) {
      if (keep.has(f)) continue;
      const v = /^v(\d+)-/.exec(f);
      if (v) this.d.publisher.unpin(this.ctx.id, Number(v[1]));
      await rm(join(this.dir, f), { force: true });
    }
  }

  /** The pool solvers sample from (fenced): the newest `keep` snapshots and the best. */
  private async publishPool(): Promise<void> {
    const best = this.meta.best;
    const pool = [...this.meta.pool];
    if (best && !pool.some((e) => e.version === best.version)) pool.push({ version: best.version, step: best.step, sha256: best.sha256 });
    await this.d.lease.hset(keys.policy(this.ctx.id), { pool: JSON.stringify(pool) });
  }

  /** Serve the pool again after a restart (the record says where). */
  async announce(): Promise<void> {
    if (this.meta.pool.length || this.meta.best) await this.publishPool();
  }

  private observe(gate: GateResult, seconds: number): void {
    const m = this.d.metrics;
    const experiment = this.ctx.id;
    m.gauge('spar_league_rating').set({ experiment, policy: 'latest' }, gate.rating);
    m.gauge('spar_league_rating').set({ experiment, policy: 'best' }, gate.bestRating);
    m.gauge('spar_league_best_version').set({ experiment }, this.meta.best?.version ?? 0);
    if (gate.exploitability !== undefined) {
      m.gauge('spar_league_exploitability').set({ experiment, policy: 'latest' }, gate.exploitability);
      m.gauge('spar_league_exploitability').set({ experiment, policy: 'best' }, gate.bestExploitability!);
    }
    m.counter('spar_league_gates_total').inc({ experiment, result: gate.promoted ? 'promoted' : 'kept' });
    m.histogram('spar_league_gate_seconds').observe(seconds);
  }

  /** The best policy's export into `dir` (undefined without a best): artifacts for the record. */
  async exportBest(dir: string): Promise<Record<string, string> | undefined> {
    const best = this.meta.best;
    if (!best || !this.best) return undefined;
    const exp = await exportPolicy(this.best, dir, this.ctx);
    return { bestOnnx: exp.model, bestSha256: exp.sha256, bestVersion: String(best.version), bestStep: String(best.step) };
  }

  async close(): Promise<void> {
    for (const e of this.meta.pool) this.d.publisher.unpin(this.ctx.id, e.version);
    if (this.meta.best) this.d.publisher.unpin(this.ctx.id, this.meta.best.version);
    await this.best?.close();
    this.best = undefined;
  }
}
