import { readFileSync } from 'node:fs';
import type { ExperimentRecord } from '@spar/core';

/** The API token the CLI sends: $SPAR_API_TOKEN, or the file $SPAR_API_TOKEN_FILE names (compose's tokens volume). */
export function apiTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SPAR_API_TOKEN) return env.SPAR_API_TOKEN;
  const file = env.SPAR_API_TOKEN_FILE;
  return file ? readFileSync(file, 'utf8').trim() : undefined;
}

/** Minimal client of the controller's HTTP API. */
export class ControllerClient {
  constructor(readonly baseUrl: string, private readonly token?: string) {}

  private async call<T>(method: string, path: string, body?: string, type = 'application/json'): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = type;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    if (!res.ok) {
      let detail = text;
      try {
        const p = JSON.parse(text) as { title?: string; detail?: string; errors?: { path: string; message: string }[] };
        detail = [p.title, p.detail, ...(p.errors ?? []).map((e) => `  ${e.path || '/'}: ${e.message}`)].filter(Boolean).join('\n');
      } catch { /* not JSON */ }
      throw new Error(`${method} ${path} → ${res.status}\n${detail}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  submit(config: unknown): Promise<ExperimentRecord> {
    return this.call('POST', '/v1/experiments', JSON.stringify(config));
  }
  get(id: string): Promise<ExperimentRecord> {
    return this.call('GET', `/v1/experiments/${encodeURIComponent(id)}`);
  }
  list(): Promise<{ experiments: Partial<ExperimentRecord>[] }> {
    return this.call('GET', '/v1/experiments');
  }
  stop(id: string): Promise<ExperimentRecord> {
    return this.call('POST', `/v1/experiments/${encodeURIComponent(id)}/stop`);
  }
}
