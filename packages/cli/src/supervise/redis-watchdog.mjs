// Local mode's redis-server runs under this watchdog (node redis-watchdog.mjs <parent pid> <redis-server args…>):
// it prints "pid <n>" once redis-server is spawned, exits with redis-server's exit code, and stops
// redis-server when the process that started it is gone (local mode killed with kill -9): no Redis
// is left running after the CLI dies. Redis gets SIGTERM, so it finishes its AOF write first.
import { spawn } from 'node:child_process';

const [parentArg, ...args] = process.argv.slice(2);
const parent = Number(parentArg);
const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
child.once('spawn', () => process.stdout.write(`pid ${child.pid}\n`));
child.once('error', (err) => { process.stderr.write(`redis-watchdog: ${err.message}\n`); process.exit(127); });
child.once('exit', (code, signal) => process.exit(code ?? (signal === 'SIGKILL' ? 137 : 143)));
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill('SIGTERM'));
setInterval(() => {
  if (process.ppid === parent) return;
  child.kill('SIGTERM');
}, 500).unref();
setInterval(() => undefined, 1 << 30); // keep the event loop alive while redis-server runs
