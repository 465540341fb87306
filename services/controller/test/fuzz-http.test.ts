/**
 * Property-based fuzz of every controller route (fastify inject, a real Redis): random methods,
 * paths, query strings, headers, content types and bodies — JSON, YAML with aliases, deep nesting,
 * mutated and oversized valid configs, bytes. Every answer comes within a deadline with a status
 * below 500, and the controller still serves /healthz and a valid submission afterwards.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { auth, good, startController, type ControllerFixture } from './fixture.ts';

const DEADLINE_MS = 20000; // a hang fails; a loaded 2-core machine does not
let c: ControllerFixture;
let existing: string;

before(async () => {
  c = await startController({ bodyLimit: 65536 });
  existing = (await c.app.inject({ method: 'POST', url: '/v1/experiments', payload: good, headers: auth })).json().id;
});
after(async () => { await c?.close(); });

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 40 });
const segment = fc.oneof(
  fc.constant(() => existing), fc.constant(() => 'nope'),
  fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('%', '%zz', '%c0%af', '..', '%00', '\u0000', 'a'.repeat(300), '__proto__', '%2F')).map((s) => () => s),
  fc.string({ maxLength: 40 }).map((s) => () => encodeURIComponent(s)),
);
const route = fc.oneof(
  fc.constantFrom('/v1/experiments', '/v1/schema', '/metrics', '/healthz', '/readyz', '/docs', '/docs/', '/docs/json', '/docs/yaml', '/', '//', '/v1', '/v1/experiments/'),
  segment.map((id) => () => `/v1/experiments/${id()}`),
  segment.map((id) => () => `/v1/experiments/${id()}/stop`),
  fc.tuple(segment, printable).map(([id, tail]) => () => `/v1/experiments/${id()}/${tail}`),
  fc.oneof(fc.constantFrom('swagger-ui.css', 'index.html', 'logo.svg', '..%5c..%5cpackage.json', '%2e%2e/%2e%2e/package.json'), printable).map((f) => () => `/docs/static/${f}`),
  fc.webPath().map((p) => () => p || '/'),
).map((r) => (typeof r === 'string' ? () => r : r));
/** The routes that change state, weighted in so every run reaches the auth check (401) as well as the router (404). */
const guarded = fc.constantFrom(
  ['POST', () => '/v1/experiments'], ['POST', () => `/v1/experiments/${existing}/stop`], ['DELETE', () => '/v1/experiments/nope'],
) as unknown as fc.Arbitrary<['GET', () => string]>;
const query = fc.oneof(fc.constant(''), printable.map((q) => `?${q}`), fc.webQueryParameters().map((q) => `?${q}`));
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND') as fc.Arbitrary<'GET'>;
const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain', 'application/json; charset=utf-8',
    'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream', ''),
  printable,
);

const fields = ['name', 'recipe', 'options', 'policy', 'rollout', 'learner', 'eval', 'budget', 'seed', 'layers', 'dModel', 'heads', 'ffn', 'context',
  'groupSize', 'concurrency', 'maxNewTokens', 'batchSize', 'estimator', 'loss', 'optimizer', 'episodes', 'suites', 'maxSteps', 'games', 'kind', '__proto__', 'constructor'];
/** The valid config with one field (top level or one section down) set to anything. */
const mutated = fc.tuple(fc.constantFrom(...fields), fc.option(fc.constantFrom('policy', 'rollout', 'learner', 'eval', 'budget', 'options')), fc.jsonValue({ maxDepth: 3 }))
  .map(([key, section, value]) => {
    const cfg: Record<string, unknown> = structuredClone(good);
    if (section) cfg[section] = { ...(cfg[section] as object ?? {}), [key]: value };
    else cfg[key] = value;
    return JSON.stringify(cfg);
  });
/** Every model size and rollout shape the schema allows: the resource limits must refuse, not fail. */
const inRange = fc.record({
  layers: fc.integer({ min: 1, max: 64 }), dModel: fc.constantFrom(4, 64, 512, 4096, 8192), heads: fc.constantFrom(1, 2, 4, 64),
  ffn: fc.integer({ min: 1, max: 65536 }), context: fc.integer({ min: 2, max: 8192 }), activation: fc.constantFrom('gelu', 'swiglu'),
  positions: fc.constantFrom('rotary', 'learned'), tieEmbeddings: fc.boolean(),
}).chain((policy) => fc.record({ groupSize: fc.integer({ min: 1, max: 256 }), concurrency: fc.integer({ min: 1, max: 256 }), batchSize: fc.integer({ min: 1, max: 65536 }) })
  .map(({ batchSize, ...rollout }) => JSON.stringify({ ...good, policy, rollout: { ...rollout, maxNewTokens: 1 }, learner: { batchSize } })));
const deep = fc.integer({ min: 1, max: 20_000 }).chain((d) => fc.constantFrom(
  `{"name":"x","recipe":"spiral-games","options":${'['.repeat(d)}${']'.repeat(d)}}`,
  `name: x\nrecipe: spiral-games\noptions: ${'['.repeat(d)}${']'.repeat(d)}\n`,
  `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`,
));
const yamlish = fc.oneof(
  fc.constantFrom('name: *x', '&x {name: *x}', 'a: &a [1,2]\nb: [*a,*a,*a]', 'name: !!binary AAAA', 'name: !!js/function "f"', '? [a]\n: 1', '%YAML 1.1\n---\nname: x', '---\n---\n', 'name: 0x1F\nrecipe: spiral-games'),
  fc.array(fc.tuple(printable, printable), { maxLength: 6 }).map((kv) => kv.map(([k, v]) => `${k}: ${v}`).join('\n')),
);
const body = fc.oneof(
  fc.constant(undefined), fc.string({ maxLength: 300 }), fc.json({ maxDepth: 4 }), mutated, inRange, deep, yamlish,
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.constant('x'.repeat(70_000)),
);
const headers = fc.record({
  'content-type': contentType,
  authorization: fc.oneof(fc.constant(auth.authorization), printable.map((t) => `Bearer ${t}`), printable),
  accept: fc.constantFrom('*/*', 'application/json', 'text/html', ''),
  range: fc.oneof(fc.constantFrom('bytes=0-10', 'bytes=99999999-', 'bytes=5-1', 'bytes=-0', 'lines=1-2'), printable),
  'if-match': fc.oneof(fc.constant('*'), printable),
  'if-none-match': printable,
  'if-modified-since': fc.oneof(fc.constant('Wed, 21 Oct 2015 07:28:00 GMT'), printable),
  extra: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,12}$/), printable, { maxKeys: 3 }),
}, { requiredKeys: [] });

const withDeadline = <T>(p: Promise<T>, what: string) => Promise.race([
  p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${DEADLINE_MS} ms: ${what}`)), DEADLINE_MS).unref()),
]);

test('every route: random requests get an answer below 500 within the deadline', async () => {
  const statuses = new Set<number>();
  const request = fc.oneof({ arbitrary: fc.tuple(method, route), weight: 4 }, { arbitrary: guarded, weight: 1 });
  await fc.assert(fc.asyncProperty(request, query, headers, body, async ([m, r], q, h, payload) => {
    const { extra, ...named } = h;
    const url = `${r()}${q}`;
    const what = `${m} ${url.slice(0, 120)} ${JSON.stringify(named)} body=${String(payload).slice(0, 120)}`;
    const res = await withDeadline(c.app.inject({ method: m, url, headers: { ...named, ...extra }, ...(payload === undefined ? {} : { payload }) }), what);
    statuses.add(res.statusCode);
    assert.ok(res.statusCode < 500, `${res.statusCode} for ${what}: ${res.body.slice(0, 300)}`);
  }), { numRuns: 400 });
  for (const s of [200, 400, 401, 404]) assert.ok(statuses.has(s), `no ${s} in ${[...statuses].sort()}`);
});

test('submissions: authorised random configs in every accepted type get 201 or a 4xx within the deadline', async () => {
  const statuses = new Set<number>();
  const submittable = fc.constantFrom('application/json', 'application/yaml', 'text/plain', 'application/json; charset=utf-8');
  await fc.assert(fc.asyncProperty(submittable, fc.oneof(fc.constant(JSON.stringify(good)), mutated, inRange, deep, yamlish, fc.json({ maxDepth: 4 })), async (type, payload) => {
    const what = `${type} ${payload.slice(0, 200)}`;
    const res = await withDeadline(c.app.inject({ method: 'POST', url: '/v1/experiments', headers: { ...auth, 'content-type': type }, payload }), what);
    statuses.add(res.statusCode);
    assert.ok(res.statusCode < 500, `${res.statusCode} for ${what}: ${res.body.slice(0, 300)}`);
    if (res.statusCode === 400) assert.ok(res.json().detail || res.json().errors, `a 400 says why: ${res.body}`);
  }), { numRuns: 300 });
  // The run reached acceptance and refusal.
  for (const s of [201, 400]) assert.ok(statuses.has(s), `no ${s} in ${[...statuses].sort()}`);
});

/** Send raw bytes over TCP; the status of the first response line, or 0 if the server closed without one. */
const rawRequest = (port: number, bytes: Buffer) => new Promise<number>((resolve, reject) => {
  const socket = connect(port, '127.0.0.1');
  let head = '';
  const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer or close in ${DEADLINE_MS} ms`)); }, DEADLINE_MS);
  const finish = (status: number) => { clearTimeout(timer); socket.destroy(); resolve(status); };
  socket.on('data', (d) => {
    head += d.toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (m) finish(Number(m[1]));
  });
  socket.on('error', () => finish(0));
  socket.on('close', () => finish(0));
  socket.end(bytes);
});

test('raw HTTP: malformed request lines, headers, lengths and chunking get a status below 500 or a close, within the deadline', async () => {
  await c.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (c.app.server.address() as { port: number }).port;
  const token = fc.stringMatching(/^[A-Za-z-]{1,12}$/);
  const headerLine = fc.oneof(
    fc.tuple(token, printable).map(([k, v]) => `${k}: ${v}`),
    fc.constantFrom('Content-Type: application/json', 'Content-Type: application/yaml', `Authorization: ${auth.authorization}`, 'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip, chunked', 'Content-Encoding: gzip', 'Expect: 100-continue', 'Content-Length: 99999999', 'Content-Length: -1', 'Content-Length: 1, 2'),
    fc.nat({ max: 400 }).map((n) => `Content-Length: ${n}`),
    printable,
  );
  const requestLine = fc.tuple(fc.oneof(method, token), fc.oneof(route.map((r) => r()), printable), fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''))
    .map(([m, p, v]) => `${m} ${p} ${v}`);
  const rawBody = fc.oneof(fc.constant(''), mutated, fc.string({ maxLength: 200 }), fc.constant('5\r\nhello\r\nZZ\r\n'), fc.constant('0\r\n\r\n'));
  const statuses = new Set<number>();
  await fc.assert(fc.asyncProperty(requestLine, fc.array(headerLine, { maxLength: 6 }), rawBody, async (line, hs, b) => {
    const text = `${line}\r\nHost: x\r\n${hs.join('\r\n')}${hs.length ? '\r\n' : ''}\r\n${b}`;
    const status = await rawRequest(port, Buffer.from(text, 'latin1'));
    statuses.add(status);
    assert.ok(status < 500, `${status} for ${JSON.stringify(text.slice(0, 400))}`);
  }), {
    numRuns: 200,
    // One request that must reach the router (404) and one the parser must refuse (400), so the
    // check below does not depend on the draw (random header lines make a clean 404 rare).
    examples: [['GET /nope HTTP/1.1', [], ''], ['POST /v1/experiments HTTP/1.1', ['Content-Length: -1'], '']],
  });
  // Requests reached the routes (200/404) and the parser's refusals (400).
  for (const st of [400, 404]) assert.ok(statuses.has(st), `no ${st} in ${[...statuses].sort()}`);
});

test('cases the fuzz found: /docs static-file errors keep their 4xx (they were 500)', async () => {
  const cases = [
    { url: '/docs/static/swagger-ui.css', headers: { range: 'bytes=99999999-' }, status: 416 },
    { url: '/docs/static/swagger-ui.css', headers: { 'if-match': 'x' }, status: 412 },
    { url: '/docs/static/..%5c..%5cpackage.json', headers: {}, status: 403 },
  ];
  for (const { url, headers, status } of cases) {
    const r = await c.app.inject({ url, headers });
    assert.equal(r.statusCode, status, `${url} ${JSON.stringify(headers)}: ${r.body}`);
    assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
  }
  assert.equal((await c.app.inject({ url: '/docs/static/swagger-ui.css' })).statusCode, 200);
});

test('after the fuzz the controller serves /healthz, /readyz and a valid submission', async () => {
  assert.equal((await c.app.inject({ url: '/healthz' })).statusCode, 200);
  assert.equal((await c.app.inject({ url: '/readyz' })).statusCode, 200);
  const r = await c.app.inject({ method: 'POST', url: '/v1/experiments', payload: good, headers: auth });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal((await c.app.inject({ url: `/v1/experiments/${r.json().id}` })).statusCode, 200);
});
