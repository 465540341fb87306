import { Worker } from 'node:worker_threads';
import { JudgeCrashedError, JudgeRejectedError, JudgeTimeoutError, SandboxBusyError } from './errors.ts';

export { JudgeCrashedError, JudgeRejectedError, JudgeTimeoutError, SandboxBusyError };

export interface SandboxOptions {
  /** Worker threads (SPAR_SANDBOX_THREADS). */
  readonly threads: number;
  /** Hard wall-clock limit of one call (SPAR_JUDGE_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** V8 old-generation limit of each thread in MiB (SPAR_SANDBOX_HEAP_MB). */
  readonly maxHeapMb: number;
  /** Calls that may wait for a free thread (SPAR_SANDBOX_QUEUE); one more is refused. */
  readonly maxQueued: number;
  /** The worker module; tests substitute one. Default: ./sandbox-worker. */
  readonly entry?: URL;
}

interface Pending {
  readonly id: number;
  readonly method: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  /** Undefined after its thread died while idle; the next call spawns one. */
  worker?: Worker;
  busy: boolean;
  pending?: Pending;
}

type Reply = { id: number; result?: unknown; error?: { name: string; message: string } };

const BOOTSTRAP = new URL('./sandbox-bootstrap.mjs', import.meta.url);
const DEFAULT_ENTRY = new URL(`./sandbox-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * A pool of worker threads that run recipe judge/validate calls. Nothing a call does can take the
 * judge down: a call that overruns is abandoned and its thread terminated; a thread that dies
 * (out of its heap limit, or a crash) fails only the call it was running. Either way the pool
 * spawns a replacement at once. Calls wait for a free thread in a bounded queue.
 */
export class JudgeSandbox {
  private readonly slots: Slot[] = [];
  private readonly waiting: { resolve: (s: Slot) => void; reject: (e: Error) => void }[] = [];
  private readonly entry: URL;
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: SandboxOptions) {
    this.entry = o.entry ?? DEFAULT_ENTRY;
    for (let i = 0; i < o.threads; i++) {
      const slot: Slot = { busy: false };
      slot.worker = this.spawn(slot);
      this.slots.push(slot);
    }
  }

  private spawn(slot: Slot): Worker {
    const w = new Worker(BOOTSTRAP, {
      workerData: { entry: this.entry.href },
      resourceLimits: { maxOldGenerationSizeMb: this.o.maxHeapMb },
    });
    w.unref();
    w.on('message', (m: Reply) => {
      const p = slot.pending;
      if (slot.worker !== w || !p || m.id !== p.id) return;
      slot.pending = undefined;
      if (m.error) p.reject(new JudgeRejectedError(`${m.error.name}: ${m.error.message}`));
      else p.resolve(m.result);
    });
    // 'error' (e.g. ERR_WORKER_OUT_OF_MEMORY) comes before 'exit'; whichever comes first retires w.
    const died = (why: string) => {
      if (slot.worker !== w) return;
      slot.worker = undefined;
      const p = slot.pending;
      if (!p) return; // died idle (e.g. failed to boot): the next call spawns a thread
      slot.pending = undefined;
      if (!this.closed) slot.worker = this.spawn(slot);
      p.reject(this.closed ? new Error('sandbox closed') : new JudgeCrashedError(`${p.method}: sandbox thread died: ${why}`));
    };
    w.on('error', (err: Error & { code?: string }) => died(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory (heap limit ${this.o.maxHeapMb} MiB)` : err.message));
    w.on('exit', (code) => died(`exited with code ${code}`));
    return w;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.waiting.length >= this.o.maxQueued) {
      return Promise.reject(new SandboxBusyError(`all ${this.slots.length} sandbox threads are busy and ${this.waiting.length} calls wait (SPAR_SANDBOX_QUEUE)`));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(s: Slot): void {
    const next = this.waiting.shift();
    if (next) next.resolve(s);
    else s.busy = false;
  }

  /** Calls waiting for a thread now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Run `method` for an experiment config in a sandbox thread. Rejects with JudgeTimeoutError on
   * overrun, JudgeCrashedError if the thread dies, JudgeRejectedError if the recipe throws, and
   * SandboxBusyError (retryable) when the wait queue is full.
   */
  async run<T>(method: 'judge' | 'validate', config: unknown, args: unknown[], timeoutMs = this.o.timeoutMs): Promise<T> {
    if (this.closed) throw new Error('sandbox closed');
    const slot = await this.acquire();
    try {
      if (this.closed) throw new Error('sandbox closed');
      const worker = (slot.worker ??= this.spawn(slot));
      const id = this.nextId++;
      return await new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (slot.pending?.id !== id) return;
          slot.pending = undefined;
          // Abandon the call: terminate the thread (it may be spinning) and replace it.
          slot.worker = this.spawn(slot);
          void worker.terminate();
          reject(new JudgeTimeoutError(`${method} exceeded ${timeoutMs} ms`));
        }, timeoutMs);
        const done = <V>(f: (v: V) => void) => (v: V) => { clearTimeout(timer); f(v); };
        slot.pending = { id, method, resolve: done(resolve as (v: unknown) => void), reject: done(reject) };
        try {
          worker.postMessage({ id, method, config, args });
        } catch (err) {
          slot.pending = undefined; // not cloneable: the thread never saw it
          done(reject)(new JudgeRejectedError(`${method}: ${(err as Error).message}`));
        }
      });
    } finally {
      this.release(slot);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('sandbox closed'));
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}
