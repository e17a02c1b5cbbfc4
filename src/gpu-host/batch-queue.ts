// Dynamic batching policy, Triton-style: requests wait at most maxQueueDelay for others with the
// same shape key to join, and a batch holds at most maxBatch rows. Pure: time is passed in.

export interface BatchPolicy {
  enabled: boolean;
  maxBatch: number;
  maxQueueDelayMs: number;
}

interface Waiting<T> {
  item: T;
  rows: number;
  key: string;
  since: number;
}

export type Take<T> = { items: T[]; rows: number } | { waitMs: number } | undefined;

export class BatchQueue<T> {
  readonly #policy: BatchPolicy;
  #waiting: Waiting<T>[] = [];

  constructor(policy: BatchPolicy) {
    this.#policy = policy;
  }

  get length(): number {
    return this.#waiting.length;
  }

  push(item: T, rows: number, key: string, now: number): void {
    this.#waiting.push({ item, rows, key, since: now });
  }

  /** Removes every waiting item (e.g. to answer them with an error). */
  drain(): T[] {
    const items = this.#waiting.map((waiting) => waiting.item);
    this.#waiting = [];
    return items;
  }

  /**
   * The next batch to run now: the oldest request and, with batching on, the later ones with its
   * key, up to maxBatch rows. Returns how long to wait instead when the batch could still grow.
   * With `onlyFull`, a batch that could still grow is not taken and nothing is waited for.
   */
  take(now: number, onlyFull = false): Take<T> {
    const oldest = this.#waiting[0];
    if (!oldest) return undefined;
    const { enabled, maxBatch, maxQueueDelayMs } = this.#policy;
    if (!enabled || oldest.rows >= maxBatch) return this.#remove([oldest]);
    const group: Waiting<T>[] = [];
    let rows = 0;
    for (const waiting of this.#waiting) {
      if (waiting.key !== oldest.key || rows + waiting.rows > maxBatch) continue;
      group.push(waiting);
      rows += waiting.rows;
      if (rows === maxBatch) break;
    }
    if (onlyFull && rows < maxBatch) return undefined;
    const waited = now - oldest.since;
    if (rows < maxBatch && waited < maxQueueDelayMs) return { waitMs: maxQueueDelayMs - waited };
    return this.#remove(group);
  }

  #remove(group: Waiting<T>[]): { items: T[]; rows: number } {
    const taken = new Set(group);
    this.#waiting = this.#waiting.filter((waiting) => !taken.has(waiting));
    return { items: group.map((waiting) => waiting.item), rows: group.reduce((sum, w) => sum + w.rows, 0) };
  }
}
