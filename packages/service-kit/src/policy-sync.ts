import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Weights } from '@spar/policy';
import { SparError } from '@spar/core';
import { grpc, sparClient, sparProto } from './grpc.ts';
import type { GrpcTls } from './grpc-tls.ts';
import type { PolicyAnnouncement__Output } from '../../../proto/generated/spar/v1/PolicyAnnouncement.ts';
import type { PolicyChunk__Output } from '../../../proto/generated/spar/v1/PolicyChunk.ts';
import type { PolicyServiceClient } from '../../../proto/generated/spar/v1/PolicyService.ts';

export const CHUNK_BYTES = 1 << 20;

/** End a server-streaming call with a status (grpc-js: emit 'error' with {code, details}). */
function failStream(call: grpc.ServerWritableStream<unknown, unknown>, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}
const KEEP_VERSIONS = 4;

/** The publisher's key of an experiment's policy: the experiment id, `#name` added for a named one. */
const streamId = (experimentId: string, policy?: string) => (policy ? `${experimentId}#${policy}` : experimentId);

/**
 * Learner side of PolicyService: holds the last few published versions per experiment and
 * streams announcements and chunked weights to workers.
 */
export class PolicyPublisher {
  /** By stream (`streamId`: an experiment's unnamed policy, or one of its named policies). */
  private readonly versions = new Map<string, Weights[]>();
  /** Snapshots served besides the latest versions (the league's opponent pool and best; the unnamed policy only). */
  private readonly pinned = new Map<string, Map<number, Weights>>();
  private readonly watchers = new Map<string, Set<grpc.ServerWritableStream<unknown, unknown>>>();

  /** Publish `w` as the newest version of the experiment's policy (`policy`: a named one). */
  publish(experimentId: string, w: Weights, policy?: string): void {
    const stream = streamId(experimentId, policy);
    const list = this.versions.get(stream) ?? [];
    list.push(w);
    while (list.length > KEEP_VERSIONS) list.shift();
    this.versions.set(stream, list);
    const ann = { experiment_id: experimentId, version: w.version, sha256: w.sha256, bytes: w.bytes.length };
    for (const call of this.watchers.get(stream) ?? []) call.write(ann);
  }

  /** Serve `w` by its version until unpinned or released (snapshots; not announced). */
  pin(experimentId: string, w: Weights): void {
    let m = this.pinned.get(experimentId);
    if (!m) this.pinned.set(experimentId, (m = new Map()));
    m.set(w.version, w);
  }

  unpin(experimentId: string, version: number): void {
    this.pinned.get(experimentId)?.delete(version);
  }

  latest(experimentId: string, policy?: string): Weights | undefined {
    return this.versions.get(streamId(experimentId, policy))?.at(-1);
  }

  /** End every open watch (on shutdown, or of every policy of the experiment when it is released). */
  release(experimentId?: string): void {
    const mine = (stream: string) => experimentId === undefined || stream === experimentId || stream.startsWith(`${experimentId}#`);
    for (const [stream, set] of this.watchers) {
      if (!mine(stream)) continue;
      for (const call of set) call.end();
      set.clear();
    }
    if (experimentId === undefined) return;
    for (const m of [this.versions, this.pinned]) for (const stream of [...m.keys()]) if (mine(stream)) m.delete(stream);
  }

  implementation(): grpc.UntypedServiceImplementation {
    return {
      WatchPolicy: (call: grpc.ServerWritableStream<{ experiment_id: string; policy?: string }, unknown>) => {
        const exp = call.request.experiment_id;
        if (!exp) {
          failStream(call, grpc.status.INVALID_ARGUMENT, 'experiment_id is required');
          return;
        }
        const policy = call.request.policy || undefined;
        const latest = this.latest(exp, policy);
        if (!latest) {
          failStream(call, grpc.status.NOT_FOUND, `${policy ? `policy ${policy} of ` : ''}experiment ${exp} is not held by this learner`);
          return;
        }
        const stream = streamId(exp, policy);
        let set = this.watchers.get(stream);
        if (!set) this.watchers.set(stream, (set = new Set()));
        set.add(call as grpc.ServerWritableStream<unknown, unknown>);
        call.write({ experiment_id: exp, version: latest.version, sha256: latest.sha256, bytes: latest.bytes.length });
        const drop = () => set!.delete(call as grpc.ServerWritableStream<unknown, unknown>);
        call.on('cancelled', drop);
        call.on('close', drop);
        call.on('error', drop);
      },
      GetPolicy: (call: grpc.ServerWritableStream<{ experiment_id: string; version: string; policy?: string }, unknown>) => {
        const exp = call.request.experiment_id;
        const version = Number(call.request.version);
        const policy = call.request.policy || undefined;
        const stream = streamId(exp, policy);
        const w = this.versions.get(stream)?.find((x) => x.version === version) ?? this.pinned.get(stream)?.get(version);
        if (!w) {
          failStream(call, grpc.status.NOT_FOUND, `version ${version} of ${policy ? `policy ${policy} of ` : ''}${exp} is not available`);
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

/** Received weights whose sha256 is not the one expected: the sender's announcement, or the learner's record. */
export class WeightHashError extends SparError {
  constructor(message: string, readonly against: 'sender' | 'record') {
    super('HASH_MISMATCH', message, true);
  }
}

/**
 * Fetch one version over GetPolicy and verify its sha256 over all received bytes: against what
 * the sender declares (transfer integrity) and, when given, against `recordedSha256` (the hash
 * the learner recorded in Redis for this version: what makes the weights trusted).
 * `waitForReady`: a call made while the channel is reconnecting (a learner restarting) waits for
 * it, up to the deadline, instead of failing at once with UNAVAILABLE.
 */
export function fetchWeights(
  client: PolicyServiceClient, experimentId: string, version: number, deadlineMs = 60000, recordedSha256?: string,
  opts: { waitForReady?: boolean; policy?: string } = {},
): Promise<Weights> {
  return new Promise((resolve, reject) => {
    // grpc-js takes waitForReady as a metadata option, not a call option.
    const metadata = new grpc.Metadata(opts.waitForReady ? { waitForReady: true } : {});
    const call = client.GetPolicy({ experiment_id: experimentId, version: String(version), ...(opts.policy ? { policy: opts.policy } : {}) }, metadata, { deadline: Date.now() + deadlineMs });
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
        return reject(new WeightHashError(`weights v${version}: sha256 ${got} (${bytes.length} bytes) != announced ${expected.sha256} (${expected.total} bytes)`, 'sender'));
      }
      if (recordedSha256 !== undefined && got !== recordedSha256) {
        return reject(new WeightHashError(`weights v${version}: sha256 ${got} != ${recordedSha256} recorded by the learner`, 'record'));
      }
      resolve({ version, sha256: got, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    });
  });
}

/** The learner's record of its latest published version (`HSET keys.policy(exp)`). */
export interface PolicyRecord {
  readonly address: string;
  readonly version: number;
  readonly sha256: string;
}

export interface FollowerOptions {
  readonly experimentId: string;
  /** A named policy of the experiment (config.policies); undefined: its one unnamed policy. */
  readonly policy?: string;
  /** The learner's current record: where it serves, and the version and sha256 it published. */
  readonly record: () => Promise<PolicyRecord | undefined>;
  /** Called with verified weights for each new version, in order. */
  readonly onWeights: (w: Weights) => Promise<void>;
  readonly logger: Logger;
  readonly onError?: (err: Error) => void;
  /** Shared gRPC token (SPAR_GRPC_TOKEN), sent on every call when set. */
  readonly token?: string;
  /** gRPC TLS settings (SPAR_GRPC_TLS_*). */
  readonly tls?: GrpcTls;
}

/**
 * Worker side: watches a learner's announcements and, on each, installs the version the
 * learner recorded in Redis, fetched by that version and accepted only when its sha256 equals
 * the recorded one. An announcement is only a cue: what a sender announces or declares is never
 * trusted. Reconnects with back-off when the learner goes away or moves.
 */
export class PolicyFollower {
  private client?: PolicyServiceClient;
  private clientAddr?: string;
  private call?: grpc.ClientReadableStream<PolicyAnnouncement__Output>;
  private stopped = false;
  private current = -1;
  private currentSha = '';
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
      addr = (await this.o.record())?.address;
    } catch (err) {
      this.o.onError?.(err as Error);
    }
    if (!addr || this.stopped) return this.scheduleRetry();
    if (addr !== this.clientAddr) {
      this.client?.close();
      const { PolicyService } = sparProto();
      this.client = sparClient(PolicyService, addr, this.o.token, this.o.tls);
      this.clientAddr = addr;
    }
    const call = this.client!.WatchPolicy({ experiment_id: this.o.experimentId, ...(this.o.policy ? { policy: this.o.policy } : {}) });
    this.call = call;
    call.on('data', () => {
      this.attempts = 0;
      this.chain = this.chain.then(() => this.sync());
    });
    const reconnect = () => {
      if (this.call !== call) return;
      this.call = undefined;
      this.scheduleRetry();
    };
    call.on('error', (err) => {
      const code = (err as grpc.ServiceError).code;
      if (code === grpc.status.UNAUTHENTICATED) this.o.logger.warn({ err: err.message }, 'policy watch refused: SPAR_GRPC_TOKEN differs from the learner\'s');
      else if (code !== grpc.status.CANCELLED) this.o.logger.debug({ err: err.message }, 'policy watch ended');
      reconnect();
    });
    call.on('end', reconnect);
  }

  /**
   * Install the recorded version unless it is the one held (same version and hash): a learner
   * resumed from a checkpoint may record a lower version, or the same number with other weights.
   */
  private async sync(): Promise<void> {
    if (this.stopped) return;
    try {
      const rec = await this.o.record();
      if (!rec || (rec.version === this.current && rec.sha256 === this.currentSha)) return;
      if (rec.address !== this.clientAddr) {
        // The learner moved: drop this watch; the reconnect follows the record.
        this.call?.cancel();
        return;
      }
      const w = await fetchWeights(this.client!, this.o.experimentId, rec.version, 60000, rec.sha256, { policy: this.o.policy });
      if (this.stopped) return;
      await this.o.onWeights(w);
      this.current = w.version;
      this.currentSha = w.sha256;
    } catch (err) {
      this.o.onError?.(err as Error);
    }
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
