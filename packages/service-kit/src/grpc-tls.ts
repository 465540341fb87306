import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Type } from '@sinclair/typebox';
import { ValidationError } from '@spar/core';

/**
 * TLS for spar's gRPC (JudgeService, PolicyService), from PEM files named in the environment.
 * The same four settings go to every gRPC service, so one CA and a certificate per service (or
 * one shared certificate) give mutual TLS everywhere:
 *
 *   server  TLS when SPAR_GRPC_TLS_CERT and SPAR_GRPC_TLS_KEY are set; with SPAR_GRPC_TLS_CA as
 *           well, every client must present a certificate that CA signed (mutual TLS)
 *   client  TLS when SPAR_GRPC_TLS_CA is set: the server's certificate must chain to it and name
 *           the address dialled (or SPAR_GRPC_TLS_SERVERNAME); the client presents CERT/KEY when set
 *
 * Nothing set: plaintext, as in local mode. The bearer token (grpc-auth.ts) works either way; over
 * TLS it is no longer readable on the wire.
 */
export const GrpcTlsSettings = {
  SPAR_GRPC_TLS_CERT: Type.String({ default: '', description: 'PEM certificate (chain) this service presents on gRPC, as server and as client (with SPAR_GRPC_TLS_KEY)' }),
  SPAR_GRPC_TLS_KEY: Type.String({ default: '', description: 'PEM private key of SPAR_GRPC_TLS_CERT' }),
  SPAR_GRPC_TLS_CA: Type.String({ default: '', description: 'PEM CA bundle: clients verify servers against it; servers with a certificate require client certificates it signed (mutual TLS)' }),
  SPAR_GRPC_TLS_SERVERNAME: Type.String({ default: '', description: 'name the server certificate must carry, when it does not name the dialled address (e.g. one certificate for every replica)' }),
};

export const GRPC_TLS_ENV = Object.keys(GrpcTlsSettings);

/** PEM bytes read once at start; absent fields are not configured. */
export interface GrpcTls {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
  readonly serverName?: string;
}

type TlsConfig = { readonly [K in keyof typeof GrpcTlsSettings]: string };

/** Read the PEM files a service configuration names; undefined when none is set. Clear errors for missing files or half a pair. */
export function readGrpcTls(cfg: TlsConfig): GrpcTls | undefined {
  const issues: { path: string; message: string }[] = [];
  const read = (name: keyof TlsConfig): Buffer | undefined => {
    const path = cfg[name];
    if (!path) return undefined;
    try {
      const pem = readFileSync(path);
      if (!pem.includes('-----BEGIN ')) issues.push({ path: `/${name}`, message: `${path} is not a PEM file` });
      return pem;
    } catch (err) {
      issues.push({ path: `/${name}`, message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return undefined;
    }
  };
  const cert = read('SPAR_GRPC_TLS_CERT');
  const key = read('SPAR_GRPC_TLS_KEY');
  const ca = read('SPAR_GRPC_TLS_CA');
  if (!!cfg.SPAR_GRPC_TLS_CERT !== !!cfg.SPAR_GRPC_TLS_KEY) {
    issues.push({ path: cfg.SPAR_GRPC_TLS_CERT ? '/SPAR_GRPC_TLS_KEY' : '/SPAR_GRPC_TLS_CERT', message: 'SPAR_GRPC_TLS_CERT and SPAR_GRPC_TLS_KEY go together' });
  }
  if (cfg.SPAR_GRPC_TLS_SERVERNAME && !cfg.SPAR_GRPC_TLS_CA) issues.push({ path: '/SPAR_GRPC_TLS_SERVERNAME', message: 'only used with SPAR_GRPC_TLS_CA (clients verify servers)' });
  if (issues.length) throw new ValidationError('gRPC TLS', issues);
  if (!cert && !ca) return undefined;
  return { cert, key, ca, serverName: cfg.SPAR_GRPC_TLS_SERVERNAME || undefined };
}

/** Server credentials: TLS with this service's certificate (client certificates required when a CA is set), else plaintext. */
export function serverCredentials(tls?: GrpcTls): grpc.ServerCredentials {
  if (!tls?.cert || !tls.key) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], !!tls.ca);
}

/** Channel credentials: TLS verified against the CA (presenting this service's certificate when set), else plaintext. */
export function channelCredentials(tls?: GrpcTls): grpc.ChannelCredentials {
  if (!tls?.ca) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
}

/** Channel options TLS needs (the name to verify when it is not the dialled host). */
export function tlsChannelOptions(tls?: GrpcTls): grpc.ClientOptions {
  return tls?.ca && tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {};
}
