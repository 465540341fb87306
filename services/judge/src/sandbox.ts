import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JudgeCrashedError, JudgeRejectedError, JudgeTimeoutError, SandboxBusyError } from './errors.ts';

export { JudgeCrashedError, JudgeRejectedError, JudgeTimeoutError, SandboxBusyError };

export interface SandboxOptions {
  /** Sandbox processes (SPAR_SANDBOX_THREADS). */
  readonly threads: number;
  /** Hard wall-clock limit of one call (SPAR_JUDGE_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** V8 old-generation limit of each process in MiB (SPAR_SANDBOX_HEAP_MB). */
  readonly maxHeapMb: number;
  /** Resident memory cap of each process in MiB, heap and everything outside it (SPAR_SANDBOX_MEMORY_MB). */
  readonly maxMemoryMb?: number;
  /** Calls that may wait for a free process (SPAR_SANDBOX_QUEUE); one more is refused. */
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
  /** Undefined after its process died while idle; the next call spawns one. */
  worker?: ChildProcess;
  busy: boolean;
  pending?: Pending;
  /** Why the sandbox killed it (memory cap), for the call's error. */
  killedFor?: string;
}

type Reply = { id: number; result?: unknown; error?: { name: string; message: string } };

const BOOTSTRAP = fileURLToPath(new URL('./sandbox-bootstrap.mjs', import.meta.url));
/** How often each process's resident memory is read against the cap. */
const MEMORY_POLL_MS = 50;

/** Resident memory of `pid` in MiB (Linux /proc); undefined when it cannot be read. */
function residentMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
const DEFAULT_ENTRY = new URL(`./sandbox-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * A pool of child processes that run recipe judge/validate calls. Nothing a call does can take the
 * judge down: a call that overruns is abandoned and its process killed; a process that dies (out
 * of its V8 heap limit, over its resident-memory cap — allocations outside the heap included —
 * or a crash) fails only the call it was running. Either way the pool spawns a replacement at
 * once. Calls wait for a free process in a bounded queue. (Worker threads capped only the JS heap:
 * memory outside it was the judge's own.)
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

  private spawn(slot: Slot): ChildProcess {
    const w = fork(BOOTSTRAP, [this.entry.href], {
      execArgv: [`--max-old-space-size=${this.o.maxHeapMb}`],
      serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Idle, a sandbox process does not keep the judge alive; a call in flight does (run() refs it).
    w.unref();
    w.channel?.unref();
    slot.killedFor = undefined;
    w.on('message', (m: Reply) => {
      const p = slot.pending;
      if (slot.worker !== w || !p || m.id !== p.id) return;
      slot.pending = undefined;
      if (m.error) p.reject(new JudgeRejectedError(`${m.error.name}: ${m.error.message}`));
      else p.resolve(m.result);
    });
    const died = (why: string) => {
      if (slot.worker !== w) return;
      slot.worker = undefined;
      const p = slot.pending;
      if (!p) return; // died idle (e.g. failed to boot): the next call spawns a process
      slot.pending = undefined;
      if (!this.closed) slot.worker = this.spawn(slot);
      p.reject(this.closed ? new Error('sandbox closed') : new JudgeCrashedError(`${p.method}: sandbox process died: ${why}`));
    };
    w.on('error', (err) => died(err.message));
    w.on('exit', (code, signal) => {
      clearInterval(watch);
      // V8 aborts a process out of heap with SIGABRT (or exit 134).
      const why = slot.killedFor ?? (signal === 'SIGABRT' || code === 134 ? `out of memory (heap limit ${this.o.maxHeapMb} MiB)` : `exited with ${signal ?? `code ${code}`}`);
      died(why);
    });
    // The resident-memory cap: everything the process holds, not only the V8 heap.
    const cap = this.o.maxMemoryMb;
    const watch = setInterval(() => {
      if (cap === undefined || w.pid === undefined || w.exitCode !== null || w.signalCode !== null) return;
      const rss = residentMb(w.pid);
      if (rss !== undefined && rss > cap) {
        if (slot.worker === w) slot.killedFor = `out of memory (${Math.round(rss)} MiB resident, cap ${cap} MiB)`;
        w.kill('SIGKILL');
      }
    }, MEMORY_POLL_MS);
    watch.unref();
    return w;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.waiting.length >= this.o.maxQueued) {
      return Promise.reject(new SandboxBusyError(`all ${this.slots.length} sandbox processes are busy and ${this.waiting.length} calls wait (SPAR_SANDBOX_QUEUE)`));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(s: Slot): void {
    const next = this.waiting.shift();
    if (next) next.resolve(s);
    else s.busy = false;
  }

  /** Calls waiting for a process now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Run `method` for an experiment config in a sandbox process. Rejects with JudgeTimeoutError on
   * overrun, JudgeCrashedError if the process dies, JudgeRejectedError if the recipe throws, and
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
          // Abandon the call: kill the process (it may be spinning) and replace it.
          slot.worker = this.spawn(slot);
          worker.kill('SIGKILL');
          reject(new JudgeTimeoutError(`${method} exceeded ${timeoutMs} ms`));
        }, timeoutMs);
        worker.channel?.ref();
        const done = <V>(f: (v: V) => void) => (v: V) => { clearTimeout(timer); worker.channel?.unref(); f(v); };
        slot.pending = { id, method, resolve: done(resolve as (v: unknown) => void), reject: done(reject) };
        try {
          worker.send({ id, method, config, args });
        } catch (err) {
          slot.pending = undefined; // not serializable: the process never saw it
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
    await Promise.all(this.slots.map((s) => {
      const w = s.worker;
      s.worker = undefined;
      if (!w || w.exitCode !== null || w.signalCode !== null) return undefined;
      w.ref(); // wait for it: an idle process is unref'd
      return new Promise<void>((resolve) => { w.once('exit', () => resolve()); w.kill('SIGKILL'); });
    }));
  }
}
