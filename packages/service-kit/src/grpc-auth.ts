import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Type } from '@sinclair/typebox';

/**
 * A shared bearer token on every spar gRPC call (JudgeService, PolicyService). Servers check the
 * `authorization: Bearer <token>` metadata with a constant-time compare and answer UNAUTHENTICATED
 * otherwise; clients add it to every call. No token configured = open, as in local mode and tests.
 *
 * The standard health service stays open: it reveals only SERVING / NOT_SERVING, and probes
 * (grpc_health_probe, orchestrators) do not carry the token.
 *
 * The token keeps strangers on the network from calling the services; TLS (grpc-tls.ts, the
 * SPAR_GRPC_TLS_* settings) keeps eavesdroppers from reading it. Without TLS, run spar on a
 * trusted network.
 */

/** The config entry every gRPC server and client service declares (`SPAR_GRPC_TOKEN`). */
export const GrpcTokenSetting = Type.Optional(Type.String({
  minLength: 16,
  description: 'shared token required on every JudgeService/PolicyService call (unset: gRPC is open)',
}));

const HEALTH_PREFIX = '/grpc.health.v1.Health/';

/** Whether `metadata` carries `authorization: Bearer <token>`; constant time in the token's bytes. */
export function bearerMatches(metadata: grpc.Metadata, token: Buffer): boolean {
  const header = metadata.get('authorization')[0];
  const value = typeof header === 'string' ? header : '';
  const given = Buffer.from(value.startsWith('Bearer ') ? value.slice(7) : '');
  // timingSafeEqual needs equal lengths; comparing against the token itself keeps the time flat.
  const same = given.length === token.length;
  return timingSafeEqual(same ? given : token, token) && same;
}

/** Server interceptor: refuse every non-health call without the right bearer token. */
export function serverAuthInterceptor(token: string): grpc.ServerInterceptor {
  const want = Buffer.from(token);
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next({
        onReceiveMetadata: (metadata, mdNext) => {
          if (method.path.startsWith(HEALTH_PREFIX) || bearerMatches(metadata, want)) mdNext(metadata);
          else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'a valid bearer token is required', metadata: new grpc.Metadata() });
        },
      });
    },
  });
}

/** Client interceptor: add the bearer token to every call. */
export function clientAuthInterceptor(token: string): grpc.Interceptor {
  const value = `Bearer ${token}`;
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start: (metadata, listener, next) => {
      metadata.set('authorization', value);
      next(metadata, listener);
    },
  });
}
