/** A minimal SVG writer: elements as strings, with every attribute value and text escaped. */

export type Attrs = Readonly<Record<string, string | number | undefined>>;

// Characters XML 1.0 forbids outright (C0 controls other than tab, LF, CR; U+FFFE/U+FFFF;
// unpaired surrogates): dropped, since no escape makes them legal.
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text or an attribute value, safe inside an element or a quoted attribute. */
export function esc(s: string): string {
  return s.replace(ILLEGAL, '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A coordinate or length: at most two decimals, no trailing zeros, never "-0" or "NaN". */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`not a finite coordinate: ${v}`);
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/** `<name attrs>children</name>`; children are already-written markup. Undefined attributes are left out. */
export function el(name: string, attrs: Attrs = {}, ...children: string[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : esc(v!)}"`)
    .join('');
  return children.length === 0 ? `<${name}${a}/>` : `<${name}${a}>${children.join('')}</${name}>`;
}

/** A text element holding s, escaped. */
export function text(x: number, y: number, s: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, esc(s));
}

/** The `points` attribute of a polyline. */
export function points(pts: readonly (readonly [number, number])[]): string {
  return pts.map(([x, y]) => `${num(x)},${num(y)}`).join(' ');
}

/** A whole standalone SVG document. */
export function document(width: number, height: number, ...children: string[]): string {
  const root = el('svg', { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${num(width)} ${num(height)}`, 'font-family': 'Helvetica, Arial, sans-serif', 'font-size': 11 }, ...children);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
