import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { clientAuthInterceptor, serverAuthInterceptor } from './grpc-auth.ts';
import { guardListener } from './listen-guard.ts';
import { channelCredentials, serverCredentials, tlsChannelOptions, type GrpcTls } from './grpc-tls.ts';
import type { ProtoGrpcType } from '../../../proto/generated/spar.ts';

export { grpc };

export const PROTO_PATH = fileURLToPath(new URL('../../../proto/spar.proto', import.meta.url));

let loaded: ProtoGrpcType | undefined;

/** The spar.v1 package loaded from proto/spar.proto (keepCase: snake_case fields as declared). */
export function sparProto(): ProtoGrpcType['spar']['v1'] {
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, {
    keepCase: true, longs: String, defaults: true, oneofs: true,
  })) as unknown as ProtoGrpcType;
  return loaded.spar.v1;
}

export interface GrpcServerHandle {
  readonly server: grpc.Server;
  readonly port: number;
  readonly health: HealthImplementation;
  close(): Promise<void>;
}

/** Max gRPC message size both ways (weights travel in 1 MiB chunks, well below this). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export interface GrpcServerOptions {
  /** Shared bearer token required on every call but health (see grpc-auth.ts); unset = open. */
  readonly token?: string;
  /** Where SPAR_INSECURE's warning goes. */
  readonly logger?: Logger;
  /** SPAR_INSECURE: serve beyond loopback without a token or mutual TLS (logged); otherwise that refuses to start. */
  readonly insecure?: boolean;
  /** TLS (grpc-tls.ts): served over TLS when it has a certificate; mutual when it has a CA too. */
  readonly tls?: GrpcTls;
}

/**
 * Start a gRPC server with the standard health service registered; every service name given
 * is marked SERVING (and '' for the whole server).
 */
export async function startGrpcServer(
  address: string,
  services: readonly { name: string; definition: grpc.ServiceDefinition; impl: grpc.UntypedServiceImplementation }[],
  opts: GrpcServerOptions = {},
): Promise<GrpcServerHandle> {
  guardListener({
    listener: 'gRPC', address, authenticated: !!opts.token || !!(opts.tls?.cert && opts.tls.ca),
    remedy: 'SPAR_GRPC_TOKEN (or mutual TLS: SPAR_GRPC_TLS_CERT, _KEY and _CA)', insecure: !!opts.insecure,
  }, opts.logger);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    interceptors: opts.token ? [serverAuthInterceptor(opts.token)] : [],
  });
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(services.map((s) => [s.name, 'SERVING' as const])) });
  health.addToServer(server);
  for (const s of services) server.addService(tolerantDefinition(s.definition), rejectMalformed(s.definition, s.impl));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, serverCredentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p)));
  });
  let closed: Promise<void> | undefined;
  return {
    server, port, health,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of services) health.setStatus(s.name, 'NOT_SERVING');
        const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, 3000);
        server.tryShutdown(() => { clearTimeout(timer); resolve(); });
      });
      return closed;
    },
  };
}

const MALFORMED = Symbol('malformed request');
type Malformed = { [MALFORMED]: string };
const malformed = (req: unknown): string | undefined => (req as Partial<Malformed> | null)?.[MALFORMED];

/**
 * grpc-js answers INTERNAL when a request does not decode. Bytes that are not the declared
 * message are the client's fault, so decoding never throws here: it yields a marker that
 * rejectMalformed answers with INVALID_ARGUMENT.
 */
function tolerantDefinition(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(Object.entries(def).map(([name, m]) => [name, {
    ...m,
    requestDeserialize: (bytes: Buffer) => {
      try {
        return m.requestDeserialize(bytes);
      } catch (err) {
        return { [MALFORMED]: (err as Error).message } satisfies Malformed;
      }
    },
  }]));
}

function rejectMalformed(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...impl };
  for (const [name, m] of Object.entries(def)) {
    const key = name in impl ? name : m.originalName && m.originalName in impl ? m.originalName : undefined;
    if (!key || m.requestStream) continue; // no request on the call to check (none in spar.proto)
    const handler = impl[key] as (call: { request: unknown; emit(e: string, v: unknown): boolean }, cb?: grpc.sendUnaryData<unknown>) => void;
    out[key] = ((call: { request: unknown; emit(e: string, v: unknown): boolean }, cb?: grpc.sendUnaryData<unknown>) => {
      const why = malformed(call.request);
      if (why === undefined) return handler(call, cb);
      const status = { code: grpc.status.INVALID_ARGUMENT, details: `request is not a valid ${m.path} message: ${why}` };
      if (cb) cb(status);
      else call.emit('error', status);
    }) as grpc.UntypedHandleCall;
  }
  return out;
}

/** Client options shared by every spar client. */
export const CLIENT_OPTIONS: grpc.ClientOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 20000,
  // A restarted judge or learner is back within seconds: reconnect quickly (grpc-js backs off up
  // to 120 s by default, which stalls proposers long after the peer is up again).
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
};

/** CLIENT_OPTIONS, plus the bearer token on every call when one is configured, plus what TLS needs. */
export function clientOptions(token?: string, tls?: GrpcTls): grpc.ClientOptions {
  const base = tls ? { ...CLIENT_OPTIONS, ...tlsChannelOptions(tls) } : CLIENT_OPTIONS;
  return token ? { ...base, interceptors: [clientAuthInterceptor(token)] } : base;
}

/** A spar gRPC client of `Service` at `address`: credentials and options from the token and TLS settings. */
export function sparClient<C>(Service: new (address: string, creds: grpc.ChannelCredentials, opts: grpc.ClientOptions) => C, address: string, token?: string, tls?: GrpcTls): C {
  return new Service(address, channelCredentials(tls), clientOptions(token, tls));
}

/** Map an error to a gRPC status for adapters: typed spar errors carry their meaning in `code`. */
export function grpcStatusOf(err: unknown): grpc.status {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'VALIDATION_FAILED': case 'CONFIG_INVALID': case 'SHAPE_MISMATCH': case 'NON_FINITE': return grpc.status.INVALID_ARGUMENT;
    case 'PAYLOAD_TOO_LARGE': return grpc.status.RESOURCE_EXHAUSTED;
    case 'NOT_FOUND': return grpc.status.NOT_FOUND;
    case 'UNAVAILABLE': return grpc.status.UNAVAILABLE;
    default: return grpc.status.INTERNAL;
  }
}
