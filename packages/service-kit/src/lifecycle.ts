import type { Logger } from 'pino';
import { SparError } from '@spar/core';

export interface Closable {
  readonly name: string;
  close(): Promise<void> | void;
}

/**
 * Close resources in reverse order of acquisition, each once, within a grace period.
 * Returns a function suitable for SIGTERM/SIGINT handlers (idempotent).
 */
export function shutdownSequence(resources: Closable[], logger: Logger, graceMs = 15000): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      const timer = setTimeout(() => {
        logger.error({ graceMs }, 'shutdown grace period exceeded; exiting');
        process.exit(1);
      }, graceMs);
      timer.unref();
      for (const r of [...resources].reverse()) {
        try {
          await r.close();
          logger.debug({ resource: r.name }, 'closed');
        } catch (err) {
          logger.warn({ err, resource: r.name }, 'close failed');
        }
      }
      clearTimeout(timer);
    })();
    return done;
  };
}

/** Install SIGTERM/SIGINT handlers that run `shutdown` then exit 0. */
export function exitOnSignals(shutdown: () => Promise<void>, logger: Logger): void {
  const handler = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    shutdown().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  if (process.env.SPAR_LOCAL_CHILD === '1') {
    // Under local mode the parent owns Ctrl-C: it stops the experiment, then SIGTERMs each child.
    process.on('SIGINT', () => undefined);
    // A child of local mode or of the test harness runs in its own process group: if its parent
    // dies without stopping it (kill -9), shut down rather than live on as an orphan.
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      logger.warn({ parent }, 'parent process gone; shutting down');
      handler('parent exited');
    }, 1000);
    watch.unref();
  } else process.once('SIGINT', () => handler('SIGINT'));
}

/**
 * A service's main() failed before it could run: print a refusal (a SparError: a configuration
 * the operator can fix) as one line, anything else with its stack, and exit 1.
 */
export function exitStartFailure(service: string) {
  return (err: unknown): never => {
    if (err instanceof SparError) console.error(`spar ${service}: ${err.message}`);
    else console.error(err);
    process.exit(1);
  };
}
