// The module specifiers a JavaScript/TypeScript source names, found from its tokens (comments,
// strings and regular expressions are skipped, so `import x from 'y'` inside a string or comment
// does not count). Recognised: static `import … from 'x'` / `import 'x'`, `export … from 'x'`,
// `import('x')` with a string literal, `require('x')`, `require.resolve('x')`, `createRequire(…)('x')`,
// `createRequire(…).resolve('x')` and `import.meta.resolve('x')`. `import type` / `export type` and
// braces whose every name is `type X` are type-only. Anything else (`register('x')`,
// `new URL('x', …)`, `import(variable)`) is not an import.

const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/** Tokens of `src`: { t: 'name' | 'str' | 'punct' | 'num' | 'tpl' | 're', v, line }. */
export function tokenize(src) {
  const out = [];
  const braces = []; // 'b' for a code brace, 't' for a template `${`
  let i = 0;
  let line = 1;
  const n = src.length;
  if (src.startsWith('#!')) while (i < n && src[i] !== '\n') i++;
  const push = (t, v) => out.push({ t, v, line });
  const regexAllowed = () => {
    const p = out[out.length - 1];
    if (!p) return true;
    if (p.t === 'punct') return !(p.v === ')' || p.v === ']' || p.v === '}');
    if (p.t === 'name') return REGEX_AFTER_WORD.has(p.v);
    return false;
  };
  // Reads template text from i (just after '`' or a closing '}' of `${`) up to '`' or '${'.
  const template = () => {
    while (i < n) {
      const c = src[i];
      if (c === '\\') { i += 2; continue; }
      if (c === '\n') line++;
      if (c === '`') { i++; push('tpl', null); return; }
      if (c === '$' && src[i + 1] === '{') { i += 2; braces.push('t'); return; }
      i++;
    }
  };
  while (i < n) {
    const c = src[i];
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') { i++; continue; }
    if (c === '/' && src[i + 1] === '/') { while (i < n && src[i] !== '\n') i++; continue; }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') { v += src[i + 1] ?? ''; i += 2; continue; }
        v += src[i++];
      }
      i++;
      push('str', v);
      continue;
    }
    if (c === '`') { i++; template(); continue; }
    if (c === '/' && regexAllowed()) {
      i++;
      let inClass = false;
      while (i < n && src[i] !== '\n') {
        const d = src[i];
        if (d === '\\') { i += 2; continue; }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[\w$]/.test(src[i])) i++;
      push('re', null);
      continue;
    }
    if (/[A-Za-z_$]/.test(c) || c > '\x7f') {
      let j = i + 1;
      while (j < n && (/[\w$]/.test(src[j]) || src[j] > '\x7f')) j++;
      push('name', src.slice(i, j));
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j])) j++;
      push('num', src.slice(i, j));
      i = j;
      continue;
    }
    if (c === '{') braces.push('b');
    if (c === '}' && braces.length) {
      if (braces.pop() === 't') { i++; template(); continue; }
    }
    push('punct', c);
    i++;
  }
  return out;
}

const is = (tok, t, v) => tok !== undefined && tok.t === t && (v === undefined || tok.v === v);

/** Index just past the bracket that closes the one at `open` (tokens), or tokens.length. */
function closeOf(toks, open) {
  const pairs = { '(': ')', '{': '}', '[': ']' };
  const want = pairs[toks[open].v];
  let depth = 0;
  for (let k = open; k < toks.length; k++) {
    if (is(toks[k], 'punct', toks[open].v)) depth++;
    else if (is(toks[k], 'punct', want) && --depth === 0) return k + 1;
  }
  return toks.length;
}

/** True when the named-bindings list `{ … }` spanning toks[from, to) names only `type X` entries. */
function allTypeNames(toks, from, to) {
  let entries = 0;
  let entry = [];
  const flush = () => {
    if (entry.length === 0) return true;
    entries++;
    const ok = is(entry[0], 'name', 'type') && entry.length > 1 && !(entry.length === 3 && is(entry[1], 'name', 'as'));
    entry = [];
    return ok;
  };
  for (let k = from + 1; k < to - 1; k++) {
    if (is(toks[k], 'punct', ',')) { if (!flush()) return false; } else entry.push(toks[k]);
  }
  return flush() && entries > 0;
}

/** Specifiers named by the source: [{ specifier, typeOnly, line }]. */
export function importSpecifiers(src) {
  const toks = tokenize(src);
  const found = [];
  const add = (tok, typeOnly) => found.push({ specifier: tok.v, typeOnly, line: tok.line });
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i];
    if (tok.t !== 'name') continue;
    const prev = toks[i - 1];
    if (is(prev, 'punct', '.')) continue; // a property named import/require/export
    const next = toks[i + 1];
    if (tok.v === 'import') {
      if (is(next, 'str')) { add(next, false); continue; }
      if (is(next, 'punct', '(')) {
        if (is(toks[i + 2], 'str') && (is(toks[i + 3], 'punct', ')') || is(toks[i + 3], 'punct', ','))) add(toks[i + 2], false);
        continue;
      }
      if (is(next, 'punct', '.')) { // import.meta.resolve('x')
        if (is(toks[i + 2], 'name', 'meta') && is(toks[i + 3], 'punct', '.') && is(toks[i + 4], 'name', 'resolve') &&
          is(toks[i + 5], 'punct', '(') && is(toks[i + 6], 'str')) add(toks[i + 6], false);
        continue;
      }
      // import <clause> from 'x'; the clause ends at `from` + string (or at `=`/`;`: not this form).
      const typeKw = is(next, 'name', 'type') && !(is(toks[i + 2], 'name', 'from') && is(toks[i + 3], 'str'));
      let k = typeKw ? i + 2 : i + 1;
      const clauseStart = k;
      let onlyTypeBraces = false;
      let stop = false;
      while (k < toks.length && !stop) {
        const t = toks[k];
        if (is(t, 'punct', '{')) {
          const end = closeOf(toks, k);
          onlyTypeBraces = k === clauseStart && allTypeNames(toks, k, end);
          k = end;
          continue;
        }
        if (is(t, 'name', 'from') && is(toks[k + 1], 'str')) {
          const braceOnly = onlyTypeBraces && k === closeOf(toks, clauseStart);
          add(toks[k + 1], typeKw || braceOnly);
          stop = true;
        } else if (is(t, 'punct', ';') || is(t, 'punct', '=') || is(t, 'punct', '(') || t.t === 'str') stop = true;
        k++;
      }
      continue;
    }
    if (tok.v === 'export') {
      const typeKw = is(next, 'name', 'type');
      const k0 = typeKw ? i + 2 : i + 1;
      let k = k0;
      let braceOnlyTypes = false;
      if (is(toks[k], 'punct', '*')) {
        k++;
        if (is(toks[k], 'name', 'as')) k += 2;
      } else if (is(toks[k], 'punct', '{')) {
        const end = closeOf(toks, k);
        braceOnlyTypes = allTypeNames(toks, k, end);
        k = end;
      } else continue;
      if (is(toks[k], 'name', 'from') && is(toks[k + 1], 'str')) add(toks[k + 1], typeKw || braceOnlyTypes);
      continue;
    }
    if (tok.v === 'require') {
      if (is(next, 'punct', '(') && is(toks[i + 2], 'str')) add(toks[i + 2], false);
      else if (is(next, 'punct', '.') && is(toks[i + 2], 'name', 'resolve') && is(toks[i + 3], 'punct', '(') && is(toks[i + 4], 'str')) add(toks[i + 4], false);
      continue;
    }
    if (tok.v === 'createRequire' && is(next, 'punct', '(')) {
      const end = closeOf(toks, i + 1);
      if (is(toks[end], 'punct', '(') && is(toks[end + 1], 'str')) add(toks[end + 1], false);
      else if (is(toks[end], 'punct', '.') && is(toks[end + 1], 'name', 'resolve') && is(toks[end + 2], 'punct', '(') && is(toks[end + 3], 'str')) add(toks[end + 3], false);
    }
  }
  return found;
}
