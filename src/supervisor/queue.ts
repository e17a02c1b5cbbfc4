// A FIFO with O(1) push and shift, and a way to put a batch back at the front.

export class Queue<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns up to `count` items from the front. */
  take(count: number): T[] {
    const end = Math.min(this.#head + count, this.#items.length);
    const taken = this.#items.slice(this.#head, end);
    this.#head = end;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return taken;
  }

  /** Puts items back before everything else, in their order (after a failed tick). */
  prepend(items: readonly T[]): void {
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  /** The items in order, without removing them. */
  peek(): T[] {
    return this.#items.slice(this.#head);
  }

  drain(): T[] {
    return this.take(this.length);
  }
}
