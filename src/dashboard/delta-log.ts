// A list the dashboard streams to its clients: entries since the last snapshot go out once; the
// newest `keep` are held for a client that connects later. Memory stays flat under load: when more
// arrive between two snapshots than could ever be shown, the oldest are counted and dropped.
export class DeltaLog<T> {
  readonly #keep: number;
  readonly #perSnapshot: number;
  #kept: T[] = [];
  #fresh: T[] = [];
  #dropped = 0;

  constructor(keep: number, perSnapshot: number) {
    this.#keep = keep;
    this.#perSnapshot = perSnapshot;
  }

  push(entry: T): void {
    this.#fresh.push(entry);
    if (this.#fresh.length > this.#keep * 2) {
      this.#dropped += this.#fresh.length - this.#keep;
      this.#fresh = this.#fresh.slice(-this.#keep);
    }
  }

  /** Entries not sent because too many arrived between two snapshots. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Every kept entry, for a client that just connected; nothing advances. */
  all(): T[] {
    return [...this.#kept, ...this.#fresh].slice(-this.#keep);
  }

  /** The entries since the last cut (at most `perSnapshot`, the newest); they become kept ones. */
  cut(): T[] {
    const fresh = this.#fresh;
    this.#fresh = [];
    this.#kept = [...this.#kept, ...fresh].slice(-this.#keep);
    const sent = fresh.slice(-this.#perSnapshot);
    this.#dropped += fresh.length - sent.length;
    return sent;
  }

  /** The kept and fresh entries that match, newest last (for a detail view). */
  filter(match: (entry: T) => boolean, most: number): T[] {
    return [...this.#kept, ...this.#fresh].filter(match).slice(-most);
  }
}
