import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Redis } from './redis.ts';

/**
 * Service discovery through Redis. Every replica registers `{service, id, ops, grpc}` under a key
 * that expires unless renewed, so a crashed replica drops out after `ttlMs`; a set indexes them.
 * Readers (the proposer looking for judges, the controller's Prometheus service discovery) list
 * the live ones. Replicas may bind port 0: they register the port they got.
 */
export interface ServiceInstance {
  readonly service: string;
  readonly id: string;
  /** host:port of /metrics, /healthz, /readyz (the controller's API port for the controller). */
  readonly ops: string;
  /** host:port of the replica's gRPC server, when it has one. */
  readonly grpc?: string;
  readonly startedAt: number;
}

export const SERVICES_INDEX = 'spar:services';
export const serviceKey = (service: string, id: string) => `spar:service:${service}:${id}`;
const member = (service: string, id: string) => `${service}:${id}`;

/** Setting shared by every service: the host others (and Prometheus) use to reach this replica. */
export const AdvertiseHostSetting = Type.String({ default: '127.0.0.1', minLength: 1, description: 'host other services and Prometheus use to reach this replica (registered in Redis with its ports)' });

/** A process-unique replica id: hostname and pid repeat across containers on one host network. */
export const newInstanceId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

export interface RegistrationOptions {
  readonly ttlMs?: number;
  readonly renewMs?: number;
  readonly logger?: Logger;
}

/** This replica's entry: written at once, renewed until `close()`, which removes it. */
export class ServiceRegistration {
  private timer?: NodeJS.Timeout;
  private closed?: Promise<void>;
  private readonly ttlMs: number;

  private constructor(private readonly redis: Redis, readonly instance: ServiceInstance, private readonly o: RegistrationOptions) {
    this.ttlMs = o.ttlMs ?? 15000;
  }

  static async start(redis: Redis, instance: Omit<ServiceInstance, 'startedAt'>, o: RegistrationOptions = {}): Promise<ServiceRegistration> {
    const reg = new ServiceRegistration(redis, { ...instance, startedAt: Date.now() }, o);
    const first = () => reg.renew().catch((err: Error) => o.logger?.warn({ err: err.message }, 'service registration failed; retrying'));
    // Before Redis is connected a write fails at once (offline queue off): register on 'ready'
    // rather than warn about a failure that is only the connection still coming up.
    if (redis.status === 'ready') await first();
    else redis.once('ready', () => { if (!reg.closed) void first(); });
    reg.timer = setInterval(() => {
      reg.renew().catch((err: Error) => o.logger?.warn({ err: err.message }, 'service registration renewal failed'));
    }, o.renewMs ?? Math.max(250, Math.floor(reg.ttlMs / 3)));
    reg.timer.unref();
    return reg;
  }

  private async renew(): Promise<void> {
    const { service, id } = this.instance;
    await this.redis.multi()
      .set(serviceKey(service, id), JSON.stringify(this.instance), 'PX', this.ttlMs)
      .sadd(SERVICES_INDEX, member(service, id))
      .exec();
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      const { service, id } = this.instance;
      await this.redis.multi().del(serviceKey(service, id)).srem(SERVICES_INDEX, member(service, id)).exec()
        .catch((err: Error) => this.o.logger?.warn({ err: err.message }, 'service deregistration failed; the entry expires by itself'));
    })();
    return this.closed;
  }
}

/** Live replicas (of `service`, or all), oldest first; index entries whose key expired are pruned. */
export async function listServices(redis: Redis, service?: string): Promise<ServiceInstance[]> {
  const members = (await redis.smembers(SERVICES_INDEX)).filter((m) => !service || m.startsWith(`${service}:`)).sort();
  if (members.length === 0) return [];
  const values = await redis.mget(members.map((m) => { const i = m.indexOf(':'); return serviceKey(m.slice(0, i), m.slice(i + 1)); }));
  const live: ServiceInstance[] = [];
  const gone: string[] = [];
  values.forEach((v, i) => {
    if (v === null) { gone.push(members[i]!); return; }
    try { live.push(JSON.parse(v) as ServiceInstance); } catch { gone.push(members[i]!); }
  });
  if (gone.length) await redis.srem(SERVICES_INDEX, ...gone);
  return live.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
}

/** Where the container HEALTHCHECK finds this service's port (SPAR_PORT_FILE, set in the image). */
export function writePortFile(port: number, path = process.env.SPAR_PORT_FILE): void {
  if (path) writeFileSync(path, `${port}\n`);
}
