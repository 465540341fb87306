import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Weights } from '@spar/policy';
import { CLIENT_OPTIONS, grpc, sparProto } from './grpc.ts';
import type { PolicyAnnouncement__Output } from '../../../proto/generated/spar/v1/PolicyAnnouncement.ts';
import type { PolicyChunk__Output } from '../../../proto/generated/spar/v1/PolicyChunk.ts';
import type { PolicyServiceClient } from '../../../proto/generated/spar/v1/PolicyService.ts';

export const CHUNK_BYTES = 1 << 20;

/** End a server-streaming call with a status (grpc-js: emit 'error' with {code, details}). */
function failStream(call: grpc.ServerWritableStream<unknown, unknown>, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}
const KEEP_VERSIONS = 4;

/**
 * Learner side of PolicyService: holds the last few published versions per experiment and
 * streams announcements and chunked weights to workers.
 */
export class PolicyPublisher {
  private readonly versions = new Map<string, Weights[]>();
  private readonly watchers = new Map<string, Set<grpc.ServerWritableStream<unknown, unknown>>>();

  publish(experimentId: string, w: Weights): void {
    const list = this.versions.get(experimentId) ?? [];
    list.push(w);
    while (list.length > KEEP_VERSIONS) list.shift();
    this.versions.set(experimentId, list);
    const ann = { experiment_id: experimentId, version: w.version, sha256: w.sha256, bytes: w.bytes.length };
    for (const call of this.watchers.get(experimentId) ?? []) call.write(ann);
  }

  latest(experimentId: string): Weights | undefined {
    return this.versions.get(experimentId)?.at(-1);
  }

  /** End every open watch (on shutdown or when the experiment is released). */
  release(experimentId?: string): void {
    for (const [exp, set] of this.watchers) {
      if (experimentId && exp !== experimentId) continue;
      for (const call of set) call.end();
      set.clear();
    }
    if (experimentId) this.versions.delete(experimentId);
  }

  implementation(): grpc.UntypedServiceImplementation {
    return {
      WatchPolicy: (call: grpc.ServerWritableStream<{ experiment_id: string }, unknown>) => {
        const exp = call.request.experiment_id;
        if (!exp) {
          failStream(call, grpc.status.INVALID_ARGUMENT, 'experiment_id is required');
          return;
        }
        const latest = this.latest(exp);
        if (!latest) {
          failStream(call, grpc.status.NOT_FOUND, `experiment ${exp} is not held by this learner`);
          return;
        }
        let set = this.watchers.get(exp);
        if (!set) this.watchers.set(exp, (set = new Set()));
        set.add(call as grpc.ServerWritableStream<unknown, unknown>);
        call.write({ experiment_id: exp, version: latest.version, sha256: latest.sha256, bytes: latest.bytes.length });
        const drop = () => set!.delete(call as grpc.ServerWritableStream<unknown, unknown>);
        call.on('cancelled', drop);
        call.on('close', drop);
        call.on('error', drop);
      },
      GetPolicy: (call: grpc.ServerWritableStream<{ experiment_id: string; version: string }, unknown>) => {
        const exp = call.request.experiment_id;
        const version = Number(call.request.version);
        const w = this.versions.get(exp)?.find((x) => x.version === version);
        if (!w) {
          failStream(call, grpc.status.NOT_FOUND, `version ${version} of ${exp} is not available`);
          return;
        }
        for (let off = 0; off < w.bytes.length || off === 0; off += CHUNK_BYTES) {
          call.write({ version: w.version, sha256: w.sha256, total_bytes: w.bytes.length, offset: off, data: Buffer.from(w.bytes.subarray(off, off + CHUNK_BYTES)) });
          if (w.bytes.length === 0) break;
        }
        call.end();
      },
    };
  }
}

export class WeightHashError extends Error {
  readonly code = 'HASH_MISMATCH';
}

/** Fetch one version over GetPolicy and verify its sha256 over all received bytes. */
export function fetchWeights(client: PolicyServiceClient, experimentId: string, version: number, deadlineMs = 60000): Promise<Weights> {
  return new Promise((resolve, reject) => {
    const call = client.GetPolicy({ experiment_id: experimentId, version: String(version) }, { deadline: Date.now() + deadlineMs });
    const parts: Buffer[] = [];
    let expected: { sha256: string; total: number } | undefined;
    call.on('data', (c: PolicyChunk__Output) => {
      expected ??= { sha256: c.sha256, total: Number(c.total_bytes) };
      if (Number(c.offset) !== parts.reduce((s, p) => s + p.length, 0)) {
        call.cancel();
        reject(new Error(`out-of-order chunk at offset ${c.offset}`));
        return;
      }
      parts.push(Buffer.from(c.data));
    });
    call.on('error', reject);
    call.on('end', () => {
      if (!expected) return reject(new Error('no chunks received'));
      const bytes = Buffer.concat(parts);
      const got = createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== expected.total || got !== expected.sha256) {
        return reject(new WeightHashError(`weights v${version}: sha256 ${got} (${bytes.length} bytes) != announced ${expected.sha256} (${expected.total} bytes)`));
      }
      resolve({ version, sha256: got, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    });
  });
}

export interface FollowerOptions {
  readonly experimentId: string;
  /** Resolves the current learner address (it can move when a learner restarts). */
  readonly address: () => Promise<string | undefined>;
  /** Called with verified weights for each new version, in order. */
  readonly onWeights: (w: Weights) => Promise<void>;
  readonly logger: Logger;
  readonly onError?: (err: Error) => void;
}

/**
 * Worker side: watches a learner's announcements and pulls every new version, reconnecting
 * with back-off when the learner goes away.
 */
export class PolicyFollower {
  private client?: PolicyServiceClient;
  private clientAddr?: string;
  private call?: grpc.ClientReadableStream<PolicyAnnouncement__Output>;
  private stopped = false;
  private current = -1;
  private chain: Promise<void> = Promise.resolve();
  private retry?: NodeJS.Timeout;
  private attempts = 0;

  constructor(private readonly o: FollowerOptions) {}

  get version(): number {
    return this.current;
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let addr: string | undefined;
    try {
      addr = await this.o.address();
    } catch (err) {
      this.o.onError?.(err as Error);
    }
    if (!addr) return this.scheduleRetry();
    if (addr !== this.clientAddr) {
      this.client?.close();
      const { PolicyService } = sparProto();
      this.client = new PolicyService(addr, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
      this.clientAddr = addr;
    }
    const call = this.client!.WatchPolicy({ experiment_id: this.o.experimentId });
    this.call = call;
    call.on('data', (a: PolicyAnnouncement__Output) => {
      this.attempts = 0;
      const v = Number(a.version);
      this.chain = this.chain.then(async () => {
        // Any version other than the one held: a learner that resumed from a checkpoint may announce a lower one.
        if (v === this.current || this.stopped) return;
        try {
          const w = await fetchWeights(this.client!, this.o.experimentId, v);
          await this.o.onWeights(w);
          this.current = v;
        } catch (err) {
          this.o.onError?.(err as Error);
        }
      });
    });
    const reconnect = () => {
      if (this.call !== call) return;
      this.call = undefined;
      this.scheduleRetry();
    };
    call.on('error', (err) => {
      if ((err as grpc.ServiceError).code !== grpc.status.CANCELLED) this.o.logger.debug({ err: err.message }, 'policy watch ended');
      reconnect();
    });
    call.on('end', reconnect);
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.attempts++;
    const delay = Math.min(100 * 2 ** Math.min(this.attempts, 5), 3000);
    this.retry = setTimeout(() => void this.connect(), delay);
  }

  /** Wait until all announced versions seen so far are applied. */
  async settled(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.call?.cancel();
    await this.chain.catch(() => undefined);
    this.client?.close();
  }
}
