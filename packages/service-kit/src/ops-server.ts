import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  readonly port: number;
  /** Bind address (default 127.0.0.1). The ops endpoints are read-only; see listen-guard.ts. */
  readonly host?: string;
  readonly registry: Registry;
  /** Liveness: the process works (default: always). */
  readonly live?: () => boolean;
  /** Readiness: dependencies are reachable and the service can take work. */
  readonly ready: () => boolean | Promise<boolean>;
}

/** /readyz answers within this: a readiness check that hangs (Redis unreachable) counts as not ready. */
export const READY_TIMEOUT_MS = 1500;

/** `ready()`, or false when it throws or has not answered within `timeoutMs`. */
export async function readyWithin(ready: () => boolean | Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
  try {
    return await Promise.race([Promise.resolve().then(ready).catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** /metrics, /healthz and /readyz for a worker service (the controller serves them through fastify). */
export class OpsServer {
  private constructor(private readonly server: Server, readonly port: number) {}
  private closed?: Promise<void>;

  static async start(o: OpsServerOptions): Promise<OpsServer> {
    const server = createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
        res.writeHead(code, { 'content-type': type });
        res.end(body);
      };
      if (url === '/metrics') {
        o.registry.metrics().then((m) => send(200, m, o.registry.contentType), (e: Error) => send(500, e.message));
      } else if (url === '/healthz') {
        const ok = o.live ? o.live() : true;
        send(ok ? 200 : 503, ok ? 'ok\n' : 'unhealthy\n');
      } else if (url === '/readyz') {
        void readyWithin(o.ready).then((ok) => send(ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n'));
      } else send(404, 'not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
    });
    return new OpsServer(server, (server.address() as AddressInfo).port);
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closed;
  }
}
