// Plain-JS entry of a judge sandbox process (forked by sandbox.ts with the worker module's URL as
// its argument): register tsx when running from sources, then load the worker.
const entry = process.argv[2];
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
// The judge that forked this process is gone: nothing is left to answer to.
process.on('disconnect', () => process.exit(0));
await import(entry);
