import { grpc, listServices, type GrpcTls, type Logger, type Redis } from '@spar/service-kit';
import { JudgeClient, type TaskValidity } from './judge-client.ts';

/** How often the pool re-reads the registered judges. */
export const JUDGE_REFRESH_MS = 2000;

/**
 * The judges a proposer calls. With a fixed address (SPAR_JUDGE_ADDR) that one; otherwise every
 * judge replica registered in Redis (service discovery), called in turn. A call that finds its
 * judge unreachable is retried once on the next one, so a judge that died mid-run costs one
 * failed attempt, not a round, until its registration expires.
 */
export class JudgePool {
  private readonly clients = new Map<string, JudgeClient>();
  private addresses: string[] = [];
  private next = 0;
  private refreshedAt = 0;
  private refreshing?: Promise<void>;

  constructor(
    private readonly o: { readonly fixed?: string; readonly redis: Redis; readonly deadlineMs: number; readonly token?: string; readonly tls?: GrpcTls; readonly logger: Logger },
  ) {
    if (o.fixed) this.addresses = [o.fixed];
  }

  /** The addresses in use now (after the last refresh). */
  get judges(): readonly string[] {
    return this.addresses;
  }

  private async refresh(): Promise<void> {
    if (this.o.fixed || Date.now() - this.refreshedAt < JUDGE_REFRESH_MS) return;
    this.refreshing ??= (async () => {
      try {
        const found = (await listServices(this.o.redis, 'judge')).map((s) => s.grpc).filter((a): a is string => !!a);
        if (found.join() !== this.addresses.join()) this.o.logger.info({ judges: found }, 'judges discovered');
        this.addresses = found;
        for (const [addr, c] of this.clients) if (!found.includes(addr)) { c.close(); this.clients.delete(addr); }
        this.refreshedAt = Date.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    await this.refreshing;
  }

  private client(address: string): JudgeClient {
    let c = this.clients.get(address);
    if (!c) { c = new JudgeClient(address, this.o.deadlineMs, this.o.token, this.o.tls); this.clients.set(address, c); }
    return c;
  }

  /** ValidateTasks on the next judge; UNAVAILABLE → once more on the one after. */
  async validate(experimentId: string, tasks: readonly unknown[]): Promise<TaskValidity[]> {
    await this.refresh();
    if (this.addresses.length === 0) {
      throw Object.assign(new Error('no judge registered in Redis (start a judge, or set SPAR_JUDGE_ADDR)'), { code: grpc.status.UNAVAILABLE });
    }
    const attempts = Math.min(2, this.addresses.length);
    for (let i = 0; ; i++) {
      const address = this.addresses[this.next++ % this.addresses.length]!;
      try {
        return await this.client(address).validate(experimentId, tasks);
      } catch (err) {
        if ((err as { code?: number }).code !== grpc.status.UNAVAILABLE || i + 1 >= attempts) throw err;
        this.o.logger.warn({ judge: address }, 'judge unavailable; trying the next one');
      }
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
