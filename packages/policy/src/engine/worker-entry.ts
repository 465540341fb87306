import { parentPort, workerData } from 'node:worker_threads';
import { EngineCore } from './core.ts';

// Worker side of WorkerEngine: one EngineCore, requests served strictly in order. Creating it may
// read a LoRA model's base folder; `ready` reports how that went, and nothing runs before it.
const created = EngineCore.create(workerData.config, workerData.runtime);
created.catch(() => undefined); // reported by `ready`
let core!: EngineCore;
const methods: Record<string, (...args: never[]) => unknown> = {
  ready: async () => { core = await created; return true; },
  setState: (s) => core.setState(s),
  getState: (w) => core.getState(w),
  mergedParams: () => core.mergedParams(),
  score: (s, a, b) => core.score(s, a, b),
  prefill: (p) => core.prefill(p),
  decode: (h, t, p) => core.decode(h, t, p),
  release: (h) => core.release(h),
  configureTraining: (l, o) => core.configureTraining(l, o),
  trainStep: (s) => core.trainStep(s),
  trainGraphFlops: (b, t) => core.trainGraphFlops(b, t),
  close: () => core.close(),
};

/**
 * Buffers a reply moves to the caller instead of copying: the logits of prefill and decode are a
 * fresh buffer per call (EngineCore keeps no reference to them), 4·rows·V bytes every token.
 */
const TRANSFER: Record<string, (result: never) => ArrayBuffer[]> = {
  prefill: (r: { logits: Float32Array }) => [r.logits.buffer as ArrayBuffer],
  decode: (r: Float32Array) => [r.buffer as ArrayBuffer],
};

let queue: Promise<unknown> = Promise.resolve();
parentPort!.on('message', (msg: { id: number; method: string; args: never[] }) => {
  queue = queue.then(async () => {
    try {
      const fn = methods[msg.method];
      if (!fn) throw new Error(`unknown engine method ${msg.method}`);
      const result = await fn(...msg.args);
      parentPort!.postMessage({ id: msg.id, result }, TRANSFER[msg.method]?.(result as never));
    } catch (err) {
      const e = err as Error & Record<string, unknown>;
      parentPort!.postMessage({ id: msg.id, error: { ...e, name: e.name, message: e.message, stack: e.stack } });
    }
  });
});
