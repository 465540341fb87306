import pino, { type Logger } from 'pino';

export type { Logger };

/** The one root logger of a service (JSON lines on stdout). Components take `logger.child(...)`. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
