// A FIFO with O(1) push and shift, a way to put a batch back at the front, and ordered insertion.
// What is taken is let go at once: an envelope's payload may be a view into the whole frame it
// came in, so a slot kept past its item's turn would hold that frame too.

export class Queue<T> {
  /** The items from `#head` on; the slots before it are emptied (undefined). */
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Adds an item after the last one that does not come after it: a push when already in order. */
  insertOrdered(item: T, compare: (a: T, b: T) => number): void {
    let at = this.#items.length;
    while (at > this.#head && compare(this.#items[at - 1] as T, item) > 0) at--;
    if (at === this.#items.length) this.#items.push(item);
    else this.#items.splice(at, 0, item);
  }

  /** Removes and returns up to `count` items from the front. */
  take(count: number): T[] {
    const end = Math.min(this.#head + count, this.#items.length);
    const taken = this.#items.slice(this.#head, end) as T[];
    if (end === this.#items.length) {
      this.#items = [];
      this.#head = 0;
      return taken;
    }
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return taken;
  }

  /** Puts items back before everything else, in their order (after a failed tick). */
  prepend(items: readonly T[]): void {
    this.#items = [...items, ...(this.#items.slice(this.#head) as T[])];
    this.#head = 0;
  }

  /** The items in order, without removing them. */
  peek(): T[] {
    return this.#items.slice(this.#head) as T[];
  }

  drain(): T[] {
    return this.take(this.length);
  }
}
