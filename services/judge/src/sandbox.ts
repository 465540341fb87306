import { Worker } from 'node:worker_threads';

export class JudgeTimeoutError extends Error {
  readonly code = 'JUDGE_TIMEOUT';
}

export class JudgeRejectedError extends Error {
  readonly code = 'JUDGE_REJECTED';
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

/**
 * A pool of worker threads that run recipe judge/validate calls with a hard wall-clock limit:
 * a call that overruns is abandoned and its thread terminated and replaced.
 */
export class JudgeSandbox {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number, private readonly timeoutMs: number) {
    for (let i = 0; i < size; i++) this.slots.push({ worker: this.spawn(), busy: false });
  }

  private spawn(): Worker {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const w = new Worker(new URL('./sandbox-bootstrap.mjs', import.meta.url), { workerData: { entry: new URL(`./sandbox-worker${ext}`, import.meta.url).href } });
    w.unref();
    return w;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(s: Slot): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else s.busy = false;
  }

  /** Run `method` for an experiment config in a sandbox thread; rejects with JudgeTimeoutError on overrun. */
  async run<T>(method: 'judge' | 'validate', config: unknown, args: unknown[], timeoutMs = this.timeoutMs): Promise<T> {
    if (this.closed) throw new Error('sandbox closed');
    const slot = await this.acquire();
    const id = this.nextId++;
    try {
      return await new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          // Abandon the call: terminate the thread (it may be spinning) and replace it.
          void slot.worker.terminate();
          slot.worker = this.spawn();
          reject(new JudgeTimeoutError(`${method} exceeded ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (m: { id: number; result?: T; error?: { name: string; message: string } }) => {
          if (m.id !== id) return;
          cleanup();
          if (m.error) reject(new JudgeRejectedError(`${m.error.name}: ${m.error.message}`));
          else resolve(m.result as T);
        };
        const onError = (err: Error) => { cleanup(); slot.worker = this.spawn(); reject(err); };
        const cleanup = () => {
          clearTimeout(timer);
          slot.worker.off('message', onMessage);
          slot.worker.off('error', onError);
        };
        slot.worker.on('message', onMessage);
        slot.worker.on('error', onError);
        slot.worker.postMessage({ id, method, config, args });
      });
    } finally {
      this.release(slot);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
