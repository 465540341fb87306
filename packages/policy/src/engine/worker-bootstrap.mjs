// Worker entry point in plain JavaScript: when the engine runs from TypeScript sources, register
// tsx's loader inside the worker (loaders are per thread) before importing the real entry.
import { workerData } from 'node:worker_threads';

const entry = workerData.entry;
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(entry);
