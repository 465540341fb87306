// Plain-JS entry for the sandbox worker: register tsx inside the thread when running from sources.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
