// Bounded host starts: at most `limit` processes between fork and ready at once, the rest queued
// in order. Forking hundreds of hosts together starves every one of them on a small machine (400
// agents took 50 s and passed their start timeouts on a busy one); a start's timeout begins when
// its own fork does.
export class StartGate<T> {
  readonly #limit: number;
  readonly #running = new Set<T>();
  readonly #queue: Array<{ item: T; start: (item: T) => void }> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer (got ${limit})`);
    this.#limit = limit;
  }

  /** Starts `item` now when a place is free, else when one frees up (in request order). */
  request(item: T, start: (item: T) => void): void {
    if (this.#running.has(item) || this.#queue.some((entry) => entry.item === item)) return;
    if (this.#running.size < this.#limit) {
      this.#running.add(item);
      start(item);
    } else {
      this.#queue.push({ item, start });
    }
  }

  /** The item's start is over (ready, failed, or its process ended), or it is no longer wanted. */
  release(item: T): void {
    const queued = this.#queue.findIndex((entry) => entry.item === item);
    if (queued >= 0) this.#queue.splice(queued, 1);
    if (!this.#running.delete(item)) return;
    const next = this.#queue.shift();
    if (!next) return;
    this.#running.add(next.item);
    next.start(next.item);
  }

  /** Starts running or waiting. */
  get pending(): number {
    return this.#running.size + this.#queue.length;
  }
}
