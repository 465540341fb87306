/** Linear scales and "nice" tick values for chart axes. */

export interface Scale {
  (v: number): number;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
}

/** Maps domain linearly onto range (a degenerate domain maps everything to the range's start). */
export function linear(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = (v: number) => r0 + (v - d0) * k;
  return Object.assign(f, { domain, range });
}

/** The step of 1, 2 or 5 × 10^k nearest (in log scale) to span / count. */
export function tickStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f >= Math.sqrt(50) ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.SQRT2 ? 2 : 1) * mag;
}

/** Multiples of a nice step inside [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  const step = tickStep(hi - lo, count);
  const out: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) out.push(clean(i * step));
  return out;
}

/** [lo, hi] widened to multiples of a nice step; a single value gets some room around it. */
export function niceDomain(lo: number, hi: number, count = 5): [number, number] {
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = tickStep(hi - lo, count);
  return [clean(Math.floor(lo / step + 1e-9) * step), clean(Math.ceil(hi / step - 1e-9) * step)];
}

/** Float noise off (0.30000000000000004 → 0.3). */
const clean = (v: number) => Number.parseFloat(v.toPrecision(12));

/** Short tick label: 1200 → "1200", 25000 → "25k", 0.25 → "0.25", 1.5e-4 → "1.5e-4". */
export function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${clean(v / 1e6)}M`;
  if (a >= 1e4) return `${clean(v / 1e3)}k`;
  if (a < 1e-3) return v.toExponential(1);
  return String(clean(v));
}

/** A value for a legend: three significant digits. */
export function fmtValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Number.parseFloat(v.toPrecision(3)));
}
