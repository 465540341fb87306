import { isIP } from 'node:net';
import { Type } from '@sinclair/typebox';
import { SparError } from '@spar/core';
import type { Logger } from 'pino';

/**
 * Secure defaults for listeners. Every spar listener binds 127.0.0.1 unless told otherwise; one
 * that would accept calls from beyond this machine without authentication refuses to start:
 *
 *   controller HTTP API   SPAR_HTTP_HOST   needs SPAR_API_TOKEN
 *   judge/learner gRPC    SPAR_GRPC_HOST   needs SPAR_GRPC_TOKEN or mutual TLS (SPAR_GRPC_TLS_CA with a certificate)
 *   worker ops ports      SPAR_OPS_HOST    read-only (/metrics, /healthz, /readyz): bound where told, no check
 *
 * SPAR_INSECURE=1 turns the refusal into a loud error-level log line at every start, for a
 * trusted network that wants no tokens.
 */

/** `SPAR_INSECURE`: the explicit opt-out of the refusal (each listening service declares it). */
export const InsecureSetting = Type.Boolean({
  default: false,
  description: 'serve a non-loopback listener without authentication (logged as an error at every start); trusted networks only',
});

/** `SPAR_OPS_HOST`: where a worker's read-only ops server binds. */
export const OpsHostSetting = Type.String({
  default: '127.0.0.1', minLength: 1,
  description: 'address the ops server (/metrics, /healthz, /readyz; read-only, no authentication) binds; 0.0.0.0 for a scraper on another host',
});

/** Whether a bind address (`host:port`, `[v6]:port`, or a bare host) listens beyond this machine. */
export function exposedBeyondLoopback(address: string): boolean {
  const host = (isIP(address) ? address : address.replace(/:\d+$/, '')).replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return false;
  if (isIP(host) === 4) return !host.startsWith('127.');
  return true;
}

/** A listener that would be reachable from beyond loopback without authentication. */
export class InsecureListenerError extends SparError {
  constructor(message: string) {
    super('insecure_listener', message);
  }
}

export interface ListenerCheck {
  /** What listens, for the message ("HTTP API", "gRPC"). */
  readonly listener: string;
  /** The bind address (`host:port`). */
  readonly address: string;
  /** Whether callers must authenticate (a token, or mutual TLS). */
  readonly authenticated: boolean;
  /** The setting(s) that would authenticate it, for the message. */
  readonly remedy: string;
  /** SPAR_INSECURE. */
  readonly insecure: boolean;
}

/**
 * Refuse (throw InsecureListenerError) to serve `address` beyond loopback without
 * authentication, unless `insecure`; then log it as an error. Loopback and authenticated
 * listeners pass silently.
 */
export function guardListener(c: ListenerCheck, logger?: Logger): void {
  if (c.authenticated || !exposedBeyondLoopback(c.address)) return;
  if (!c.insecure) {
    throw new InsecureListenerError(
      `refusing to serve the ${c.listener} on ${c.address} without authentication: set ${c.remedy}, ` +
      'or bind a loopback address (the default, 127.0.0.1), or set SPAR_INSECURE=1 to accept that anyone who reaches this port can use it',
    );
  }
  logger?.error({ address: c.address }, `INSECURE (SPAR_INSECURE=1): the ${c.listener} on ${c.address} is open to anyone who can reach it`);
}
