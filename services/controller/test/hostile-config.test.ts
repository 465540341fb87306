import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_NESTING_DEPTH } from '@spar/core';
import { auth, good, startController, type ControllerFixture } from './fixture.ts';

let c: ControllerFixture;
before(async () => { c = await startController(); });
after(async () => { await c?.close(); });

const post = (body: string, type = 'application/json') =>
  c.app.inject({ method: 'POST', url: '/v1/experiments', payload: body, headers: { 'content-type': type, ...auth } });

/** A 400 problem+json whose first issue is at `path` and matches `message`. */
function assertProblem(r: Awaited<ReturnType<typeof post>>, path: string, message: RegExp) {
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
  const body = r.json();
  assert.equal(body.status, 400);
  assert.equal(body.errors[0].path, path, r.body);
  assert.match(body.errors[0].message, message);
}

test('YAML aliases: unresolved and alias bombs are 400, not 500', async () => {
  assertProblem(await post('name: *x\nrecipe: spiral-games\n', 'application/yaml'), '', /^alias: Unresolved alias/);
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) bomb.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
  assertProblem(await post(`${bomb.join('\n')}\n`, 'application/yaml'), '', /more than 50 alias expansions/);
  assertProblem(await post('&x {name: *x, recipe: spiral-games}', 'text/yaml'), '', new RegExp(`limit of ${MAX_NESTING_DEPTH} levels`));
});

test('deeply nested JSON and YAML are 400 naming the depth limit', async () => {
  for (const depth of [MAX_NESTING_DEPTH + 1, 10_000, 60_000]) {
    const deepArrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    assertProblem(await post(`{"name":"x","recipe":"spiral-games","options":${deepArrays}}`), '', new RegExp(`limit of ${MAX_NESTING_DEPTH} levels`));
    const deepObjects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const r = await post(`{"name":"x","recipe":"spiral-games","policy":${deepObjects}}`);
    // 60k nested objects are over the 256 KiB body limit: 413, which is just as fine.
    if (r.statusCode !== 413) assertProblem(r, '', new RegExp(`limit of ${MAX_NESTING_DEPTH} levels`));
  }
  const yaml = await post(`name: x\nrecipe: spiral-games\noptions: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 'application/yaml');
  assert.equal(yaml.statusCode, 400, yaml.body);
});

test('a config over a resource cap is 400 naming the value and the limit', async () => {
  const r = await post(JSON.stringify({ ...good, policy: { layers: 64, dModel: 8192, heads: 64, ffn: 65536 } }));
  assertProblem(r, '/policy', /^estimated 8\.59e10 parameters exceeds the limit 5e7$/);
  assert.match(r.json().detail, /\/policy estimated 8\.59e10 parameters exceeds the limit 5e7/);
  assertProblem(await post(JSON.stringify({ ...good, eval: { episodes: 20_000 } })), '/eval/episodes', /20000 episodes exceeds the limit 10000/);
});

test('after hostile input the controller still serves', async () => {
  assert.equal((await c.app.inject({ url: '/healthz' })).statusCode, 200);
  assert.equal((await post(JSON.stringify(good))).statusCode, 201);
});
