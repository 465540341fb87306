import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const SERVICES = ['controller', 'judge', 'learner', 'solver', 'proposer'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface RunningService {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  readonly log: WriteStream;
  readonly exited: Promise<number | null>;
}

export interface StartOptions {
  /** CPU priority (nice) of the service; 0 or absent: the parent's. */
  readonly nice?: number;
  /** Log file name (without .log) when it is not the service's name (replicas). */
  readonly logName?: string;
  /**
   * Run it in its own process group, so a terminal's Ctrl-C (SIGINT to the foreground group)
   * reaches only the parent, which then stops the services in order.
   */
  readonly ownGroup?: boolean;
}

/**
 * Start one service as a child process (`node --import tsx services/<name>/src/bin.ts`). Its JSON
 * log goes to `<logDir>/<name>.log`; warnings and errors are echoed to stderr with a prefix.
 */
export function startService(
  root: string, name: ServiceName, env: NodeJS.ProcessEnv, logDir: string, echo: (line: string) => void, opts: StartOptions = {},
): RunningService {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${opts.logName ?? name}.log`), { flags: 'a' });
  const node = [process.execPath, '--import', 'tsx', join(root, 'services', name, 'src', 'bin.ts')];
  // `nice` execs node in place (same pid), so every thread the service ever starts inherits the priority.
  const argv = opts.nice ? ['nice', '-n', String(opts.nice), ...node] : node;
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: root, env: { ...process.env, ...env, SPAR_LOCAL_CHILD: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.ownGroup ?? false,
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      let level = 50;
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 30;
      } catch { /* plain text: show it */ }
      if (level >= 40) echo(`[${name}] ${line}`);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, log, exited };
}

/** Whether the process has ended (by exit or by a signal: exitCode stays null after kill -9). */
export function hasExited(s: RunningService): boolean {
  return s.child.exitCode !== null || s.child.signalCode !== null;
}

/** SIGTERM every service (reverse order), wait for exits (SIGKILL after a grace period). */
export async function stopServices(services: readonly RunningService[], graceMs = 20000): Promise<void> {
  for (const s of [...services].reverse()) {
    if (!hasExited(s)) s.child.kill('SIGTERM');
  }
  await Promise.all(services.map(async (s) => {
    const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
    await s.exited;
    clearTimeout(timer);
    await new Promise((r) => s.log.end(r));
  }));
}
