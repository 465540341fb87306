import assert from 'node:assert/strict';
import { TERMINAL_STATES, type ExperimentRecord } from '@spar/core';
import type { Stack } from '@spar/testing';

/** The controller's experiment endpoints of a test stack, as the tests use them. */
export function experimentsApi(stack: Stack) {
  const get = async (id: string) => (await (await fetch(`${stack.baseUrl}/v1/experiments/${id}`)).json()) as ExperimentRecord;
  /** Poll until `pred` holds; throws with the state and step reached after `ms`. */
  const until = async (id: string, pred: (r: ExperimentRecord) => boolean, ms = 180000): Promise<ExperimentRecord> => {
    const end = Date.now() + ms;
    for (;;) {
      // A controller being restarted refuses connections for a moment: keep polling.
      const r = await get(id).catch(() => undefined);
      if (r?.state && pred(r)) return r;
      if (Date.now() > end) throw new Error(`experiment ${id} timed out: ${r?.state} at step ${r?.step}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  return {
    get,
    until,
    /** POST an experiment; it must be accepted (201). Returns its id. */
    async submit(body: object): Promise<string> {
      const r = await fetch(`${stack.baseUrl}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 201);
      return ((await r.json()) as ExperimentRecord).id;
    },
    /** Wait for a terminal state. */
    finished: (id: string, ms?: number) => until(id, (r) => TERMINAL_STATES.includes(r.state), ms),
    /** Ask for a stop and wait for the terminal state. */
    async stop(id: string): Promise<ExperimentRecord> {
      await fetch(`${stack.baseUrl}/v1/experiments/${id}/stop`, { method: 'POST' });
      return until(id, (r) => TERMINAL_STATES.includes(r.state));
    },
  };
}
