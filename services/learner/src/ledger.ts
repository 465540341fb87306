/**
 * The learner's dedupe ledger: hashes of the trajectory ids it has read, for the window above the
 * last checkpointed cursor only. The judge's append script already refuses a group appended twice;
 * this catches a repeat that reaches the stream anyway (e.g. after the judge's dedupe window) while
 * both copies are still above the learner's checkpointed cursor. Two generations, rotated at each
 * checkpoint, keep it bounded by about two checkpoint intervals of trajectories — it used to hold
 * every id of the run and grew into every checkpoint.
 */
export class Ledger {
  private previous = new Set<bigint>();
  private current: Set<bigint>;

  constructor(restored: Iterable<bigint> = []) {
    this.current = new Set(restored);
  }

  has(h: bigint): boolean {
    return this.current.has(h) || this.previous.has(h);
  }

  add(h: bigint): void {
    this.current.add(h);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** What a checkpoint stores: both generations. */
  snapshot(): BigInt64Array {
    const out = new BigInt64Array(this.size);
    let i = 0;
    for (const s of [this.previous, this.current]) for (const h of s) out[i++] = h;
    return out;
  }

  /** After a checkpoint: the oldest generation is forgotten. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Set();
  }
}
