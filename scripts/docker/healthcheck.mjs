#!/usr/bin/env node
// Container HEALTHCHECK: GET /healthz on this service's ops (or API) port. The port is the one the
// service wrote to SPAR_PORT_FILE when it bound (so SPAR_OPS_PORT=0 works), else SPAR_OPS_PORT,
// else SPAR_HTTP_PORT. Exit 0 healthy, 1 not.
import { readFileSync } from 'node:fs';

function port() {
  try { return readFileSync(process.env.SPAR_PORT_FILE ?? '', 'utf8').trim(); } catch { /* not written yet */ }
  return process.env.SPAR_OPS_PORT ?? process.env.SPAR_HTTP_PORT ?? '8080';
}
try {
  const res = await fetch(`http://127.0.0.1:${port()}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
