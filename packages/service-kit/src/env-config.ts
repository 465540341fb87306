import { readFileSync } from 'node:fs';
import type { Static, TObject } from '@sinclair/typebox';
import { ValidationError, check, deepFreeze } from '@spar/core';
import { GRPC_TLS_ENV } from './grpc-tls.ts';

/**
 * Parse a service's configuration once, at start: environment variables, overridden by
 * command-line flags (`--ops-port 9000` sets SPAR_OPS_PORT; `--redis-url` sets REDIS_URL).
 * Values are coerced to the schema's types; unknown SPAR_* variables and unknown flags are
 * rejected; the result is frozen. `<NAME>_FILE` (Docker's secrets convention) reads a setting from a
 * file instead (trailing newline dropped): compose hands the tokens over this way.
 */
/** SPAR_* variables that belong to other spar components (CLI, tests, local mode), not errors. */
const SHARED_NAMES = ['SPAR_URL', 'SPAR_API_TOKEN', 'SPAR_GRPC_TOKEN', 'SPAR_TEST_EP', 'SPAR_LOCAL_CHILD', 'SPAR_LOCAL_NICE', 'SPAR_TEST_KEEP', 'SPAR_METRICS_FORGET_MS', 'SPAR_PORT_FILE',
  // Declared by the services that authenticate a listener (controller, judge, learner); ignored by the rest.
  'SPAR_INSECURE',
  // Local mode's Redis cap (compose reads it too).
  'SPAR_REDIS_MAXMEMORY',
  // gRPC TLS files: compose and k8s hand them to every service; the controller speaks no gRPC.
  ...GRPC_TLS_ENV];
const SHARED = new Set([...SHARED_NAMES, 'SPAR_API_TOKEN_FILE', 'SPAR_GRPC_TOKEN_FILE']);
const FILE_SUFFIX = '_FILE';

export function loadServiceConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Static<T> {
  const props = schema.properties as Record<string, { type?: string }>;
  const raw: Record<string, unknown> = {};
  const issues: { path: string; message: string }[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (k in props) raw[k] = v;
    else if (k.endsWith(FILE_SUFFIX) && k.slice(0, -FILE_SUFFIX.length) in props && v !== undefined && v !== '') {
      const name = k.slice(0, -FILE_SUFFIX.length);
      if (env[name] !== undefined) issues.push({ path: `/${k}`, message: `set ${name} or ${k}, not both` });
      else {
        try {
          raw[name] = readFileSync(v, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          issues.push({ path: `/${k}`, message: `cannot read ${v}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        }
      }
    } else if (k.startsWith('SPAR_') && !SHARED.has(k)) issues.push({ path: `/${k}`, message: 'unknown setting' });
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) { issues.push({ path: `argv[${i}]`, message: `unexpected argument ${a}` }); continue; }
    const [flag, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const name = flag.toUpperCase().replace(/-/g, '_');
    const key = name in props ? name : `SPAR_${name}`;
    if (!(key in props)) { issues.push({ path: `--${flag}`, message: 'unknown flag' }); continue; }
    raw[key] = inline ?? argv[++i];
  }
  for (const [k, v] of Object.entries(raw)) {
    const t = props[k]?.type;
    if (typeof v !== 'string') continue;
    if (t === 'integer' || t === 'number') raw[k] = v.trim() === '' ? v : Number(v);
    else if (t === 'boolean') raw[k] = v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
  }
  const res = check(schema, raw);
  issues.push(...res.issues);
  if (issues.length) throw new ValidationError('service configuration', issues);
  return deepFreeze(res.value);
}
