import { createHash } from 'node:crypto';

/** Hex sha256 of the UTF-8 text (or bytes). */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic ids: a re-delivered job recomputes the same ids, so duplicates are detectable. */
export function taskId(experimentId: string, canonicalContent: string): string {
  return `t-${sha256(`${experimentId}\n${canonicalContent}`).slice(0, 24)}`;
}

/** The attempt-th group of rollouts for a task. */
export function groupId(task: string, attempt: number): string {
  return `${task}.g${attempt}`;
}

/** The index-th trajectory (sample) of a group. */
export function trajectoryId(group: string, index: number): string {
  return `${group}.${index}`;
}

/** 63-bit non-negative hash of an id (for compact ledgers). */
export function idHash64(id: string): bigint {
  const h = createHash('sha256').update(id).digest();
  return h.readBigUInt64BE(0) & 0x7fffffffffffffffn;
}

/** A new random experiment id (not deterministic: experiments are created by users). */
export function newExperimentId(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 32) || 'exp';
  return `${slug}-${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}
