/**
 * A tiny XML parser for tests: enough of XML 1.0 to check that a generated document is well
 * formed (one root, matched tags, quoted unique attributes, only the five predefined entities
 * and character references, no raw `<` or `&` in text) and to query what it holds.
 */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Decoded text directly inside this element. */
  readonly text: string;
}

const NAME = /^[A-Za-z_:][\w:.-]*/;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, at: number): string {
  if (/<|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);)/.test(raw)) throw new Error(`raw '<' or '&' near offset ${at}: ${JSON.stringify(raw.slice(0, 60))}`);
  return raw.replace(/&(#x[0-9A-Fa-f]+|#\d+|\w+);/g, (_, e: string) => (e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))) : PREDEFINED[e]!));
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (m: string): never => { throw new Error(`${m} at offset ${i}: ${JSON.stringify(src.slice(i, i + 40))}`); };
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(src.slice(i))![0].length;
      i += ws;
      if (src.startsWith('<?', i)) { const e = src.indexOf('?>', i); if (e < 0) fail('unterminated <?'); i = e + 2; }
      else if (src.startsWith('<!--', i)) { const e = src.indexOf('-->', i); if (e < 0) fail('unterminated comment'); i = e + 3; }
      else return;
    }
  };
  const element = (): XmlElement => {
    if (src[i] !== '<') fail('expected <');
    i++;
    const name = NAME.exec(src.slice(i))?.[0] ?? fail('expected an element name');
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(src.slice(i))![0].length;
      i += ws;
      if (src.startsWith('/>', i)) { i += 2; return { name, attrs, children: [], text: '' }; }
      if (src[i] === '>') { i++; break; }
      if (ws === 0) fail('expected whitespace before an attribute');
      const m = /^([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(src.slice(i)) ?? fail('malformed attribute');
      if (m[1]! in attrs) fail(`duplicate attribute ${m[1]}`);
      attrs[m[1]!] = decode(m[3] ?? m[4]!, i);
      i += m[0].length;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const lt = src.indexOf('<', i);
      if (lt < 0) fail(`unclosed <${name}>`);
      text += decode(src.slice(i, lt), i);
      i = lt;
      if (src.startsWith('</', i)) {
        const close = /^<\/([A-Za-z_:][\w:.-]*)\s*>/.exec(src.slice(i)) ?? fail('malformed end tag');
        if (close[1] !== name) fail(`</${close[1]}> closes <${name}>`);
        i += close[0].length;
        return { name, attrs, children, text };
      }
      if (src.startsWith('<!--', i)) { const e = src.indexOf('-->', i); if (e < 0) fail('unterminated comment'); i = e + 3; continue; }
      children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== src.length) fail('content after the root element');
  return root;
}

/** Every element below (and including) e, depth first. */
export function descendants(e: XmlElement): XmlElement[] {
  return [e, ...e.children.flatMap(descendants)];
}

/** All text inside e, in document order. */
export function allText(e: XmlElement): string {
  return e.text + e.children.map(allText).join('');
}
