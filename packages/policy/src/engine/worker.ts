import { Worker } from 'node:worker_threads';
import * as errors from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import type { RuntimeOptions } from '../runtime/session.ts';
import type { LossConfig } from '../train/loss.ts';
import type { OptimizerConfig } from '../train/optimizer.ts';
import type { AllowedSets, TrainSample } from './batch.ts';
import type { EngineState, StepMetrics } from './core.ts';
import type { Engine } from './engine.ts';

interface Reply { id: number; result?: unknown; error?: Record<string, unknown> }

/** Rebuild a typed error (instanceof works) from its serialised fields. */
function reviveError(e: Record<string, unknown>): Error {
  const cls = (errors as Record<string, unknown>)[String(e.name)];
  const proto = typeof cls === 'function' ? (cls as { prototype: object }).prototype : Error.prototype;
  const err = Object.assign(Object.create(proto) as Error, e);
  Object.defineProperty(err, 'message', { value: e.message, enumerable: false });
  return err;
}

/**
 * An Engine whose EngineCore lives in a worker_thread, so ORT runs (which block the thread
 * they run on) never stall the caller's event loop. Calls are queued in order by the worker.
 */
export class WorkerEngine implements Engine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed?: Promise<void>;
  private failure?: Error;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(reviveError(m.error));
      else p.resolve(m.result);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`policy worker exited with code ${code}`)));
  }

  static async create(config: ModelConfig, runtime: RuntimeOptions): Promise<WorkerEngine> {
    const entry = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    const worker = new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), { workerData: { config, runtime, entry } });
    const engine = new WorkerEngine(worker);
    try {
      await engine.call('ready', []);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  private call<T>(method: string, args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('engine is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  setState(s: EngineState): Promise<void> { return this.call('setState', [s]); }
  getState(withOptimizer = true): Promise<EngineState> { return this.call('getState', [withOptimizer]); }
  mergedParams(): Promise<{ config: ModelConfig; params: Record<string, Float32Array> }> { return this.call('mergedParams', []); }
  score(sequences: readonly ArrayLike<number>[], allowed?: AllowedSets, base?: boolean): Promise<Float32Array[]> {
    return this.call('score', [sequences.map((s) => Array.from(s)), allowed, base]);
  }
  prefill(prompts: readonly ArrayLike<number>[]): Promise<{ handle: number; logits: Float32Array }> {
    return this.call('prefill', [prompts.map((p) => Array.from(p))]);
  }
  decode(handle: number, tokens: ArrayLike<number>, positions: ArrayLike<number>): Promise<Float32Array> {
    return this.call('decode', [handle, Array.from(tokens), Array.from(positions)]);
  }
  release(handle: number): Promise<void> { return this.call('release', [handle]); }
  configureTraining(loss: LossConfig, opt: OptimizerConfig): Promise<void> { return this.call('configureTraining', [loss, opt]); }
  trainStep(samples: readonly TrainSample[]): Promise<StepMetrics> { return this.call('trainStep', [samples]); }
  trainGraphFlops(batch: number, length: number): Promise<{ total: number; matmul: number }> { return this.call('trainGraphFlops', [batch, length]); }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure) {
        const id = this.nextId++;
        await new Promise<void>((resolve) => {
          this.pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
          this.worker.postMessage({ id, method: 'close', args: [] });
        });
      }
      await this.worker.terminate();
    })();
    return this.closed;
  }
}
