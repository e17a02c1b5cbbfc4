// Bounded host starts: at most `limit` processes between fork and ready at once, the rest queued
// in order. Forking hundreds of hosts together starves every one of them on a small machine (400
// agents took 50 s and passed their start timeouts on a busy one); a start's timeout begins when
// its own fork does.
export class StartGate<T> {
  readonly #limit: number;
  readonly #running = new Set<T>();
  /** Waiting starts in request order (a Map keeps insertion order; ten thousand may wait). */
  readonly #queue = new Map<T, (item: T) => void>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer (got ${limit})`);
    this.#limit = limit;
  }

  /** Starts `item` now when a place is free, else when one frees up (in request order). */
  request(item: T, start: (item: T) => void): void {
    if (this.#running.has(item) || this.#queue.has(item)) return;
    if (this.#running.size < this.#limit) {
      this.#running.add(item);
      start(item);
    } else {
      this.#queue.set(item, start);
    }
  }

  /** The item's start is over (ready, failed, or its process ended), or it is no longer wanted. */
  release(item: T): void {
    if (this.#queue.delete(item) || !this.#running.delete(item)) return;
    const next = this.#queue.entries().next();
    if (next.done) return;
    const [waiting, start] = next.value;
    this.#queue.delete(waiting);
    this.#running.add(waiting);
    start(waiting);
  }

  /** Starts running or waiting. */
  get pending(): number {
    return this.#running.size + this.#queue.size;
  }
}
