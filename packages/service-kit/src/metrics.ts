import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRIC_CATALOG } from './metric-catalog.ts';

/** How long the series of an experiment no longer served stay exported (SPAR_METRICS_FORGET_MS for tests). */
export const FORGET_AFTER_MS = Number(process.env.SPAR_METRICS_FORGET_MS ?? 300000);

/** A service's registry; metrics are created on first use from the catalog (and only from it). */
export class Metrics {
  readonly registry = new Registry();
  private readonly made = new Map<string, Counter | Gauge | Histogram>();

  constructor(readonly service: string, defaults = true) {
    this.registry.setDefaultLabels({ service_name: service });
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'spar_process_' });
  }

  private get(name: string, type: 'counter' | 'gauge' | 'histogram') {
    const def = METRIC_CATALOG[name];
    if (!def) throw new Error(`metric ${name} is not in the catalog`);
    if (def.type !== type) throw new Error(`metric ${name} is a ${def.type}`);
    let m = this.made.get(name);
    if (!m) {
      const common = { name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
      m = type === 'counter' ? new Counter(common) : type === 'gauge' ? new Gauge(common) : new Histogram({ ...common, buckets: [...(def.buckets ?? [])] });
      this.made.set(name, m);
    }
    return m;
  }

  /**
   * Drop every series labelled with this experiment (it is no longer served here) after `afterMs`
   * — long enough for Prometheus to scrape the final values — so per-experiment label sets do not
   * pile up over a long-lived process.
   */
  forgetExperimentLater(id: string, afterMs = FORGET_AFTER_MS): void {
    setTimeout(() => void this.forgetExperiment(id).catch(() => undefined), afterMs).unref();
  }

  /** Drop every series labelled with this experiment, now. */
  async forgetExperiment(id: string): Promise<void> {
    for (const [name, m] of this.made) {
      const labels = METRIC_CATALOG[name]!.labels;
      if (!labels.includes('experiment')) continue;
      const seen = new Set<string>();
      for (const v of (await m.get()).values) {
        if (v.labels.experiment !== id) continue;
        const own = Object.fromEntries(labels.filter((l) => v.labels[l] !== undefined).map((l) => [l, v.labels[l]!]));
        const k = JSON.stringify(own);
        if (seen.has(k)) continue;
        seen.add(k);
        m.remove(own);
      }
    }
  }

  counter(name: string): Counter { return this.get(name, 'counter') as Counter; }
  gauge(name: string): Gauge { return this.get(name, 'gauge') as Gauge; }
  histogram(name: string): Histogram { return this.get(name, 'histogram') as Histogram; }
}

/**
 * Fraction of time spent idle over a sliding window, for spar_idle_ratio: call busy()/idle() at
 * transitions; ratio() reads it.
 */
export class IdleTracker {
  private state: 'idle' | 'busy' = 'idle';
  private since = performance.now();
  private readonly spans: { idle: boolean; start: number; end: number }[] = [];
  constructor(private readonly windowMs = 60000) {}
  private mark(next: 'idle' | 'busy') {
    if (next === this.state) return;
    const now = performance.now();
    this.spans.push({ idle: this.state === 'idle', start: this.since, end: now });
    this.state = next;
    this.since = now;
    while (this.spans.length && this.spans[0]!.end < now - this.windowMs) this.spans.shift();
  }
  busy(): void { this.mark('busy'); }
  idle(): void { this.mark('idle'); }
  ratio(): number {
    const now = performance.now();
    const from = now - this.windowMs;
    let idle = 0;
    let total = 0;
    for (const s of [...this.spans, { idle: this.state === 'idle', start: this.since, end: now }]) {
      const a = Math.max(s.start, from);
      if (s.end <= a) continue;
      total += s.end - a;
      if (s.idle) idle += s.end - a;
    }
    return total > 0 ? idle / total : 1;
  }
}
