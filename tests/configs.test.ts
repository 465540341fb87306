import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, parseConfigText, parseExperiment } from '@spar/core';
import { builtinRecipes } from '@spar/recipes';

const DIR = resolve(fileURLToPath(new URL('../configs', import.meta.url)));

test('every shipped config validates, and every built-in recipe has one', () => {
  const reg = builtinRecipes();
  const seen = new Set<string>();
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.yaml'))) {
    const c = parseExperiment(parseConfigText(readFileSync(join(DIR, f), 'utf8')), reg);
    seen.add(c.recipe);
  }
  for (const r of reg.names()) assert.ok(seen.has(r), `no config for ${r}`);
});

test('every shipped config fits the default resource limits', () => {
  const reg = builtinRecipes();
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.yaml'))) {
    assert.doesNotThrow(() => parseExperiment(parseConfigText(readFileSync(join(DIR, f), 'utf8')), reg, DEFAULT_LIMITS), f);
  }
});
