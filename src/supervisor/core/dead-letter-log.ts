// The dead letters a run keeps for listing and re-injection: the newest ones, by id, bounded in
// count and in payload bytes (a client injecting large payloads that get dead-lettered cannot
// grow the supervisor's memory without limit). Every letter is counted, kept or not.
import { envelopeId, ownBytes } from '../../protocol/index.js';
import type { DeadLetter } from './scheduler.js';

export interface DeadLetterLimits {
  /** Most letters kept. */
  count: number;
  /** Most payload bytes kept across the kept letters; the oldest go first. */
  bytes: number;
}

export class DeadLetterLog {
  readonly #kept = new Map<string, DeadLetter>();
  readonly #limits: DeadLetterLimits;
  #bytes = 0;
  /** Every dead letter ever added, kept or not. */
  count = 0;
  /** Letters forgotten to stay within the limits (no longer listed or re-injectable). */
  dropped = 0;

  constructor(limits: DeadLetterLimits) {
    this.#limits = limits;
  }

  add(letter: DeadLetter): void {
    this.count++;
    const size = letter.envelope.payload?.length ?? 0;
    if (size > this.#limits.bytes) {
      this.dropped++;
      return;
    }
    const id = envelopeId(letter.envelope);
    this.#forget(id);
    // Its own bytes: a view into the frame it came in would hold that frame, uncounted.
    this.#kept.set(id, { ...letter, envelope: ownBytes(letter.envelope) });
    this.#bytes += size;
    while (this.#kept.size > this.#limits.count || this.#bytes > this.#limits.bytes) {
      this.#forget(this.#kept.keys().next().value as string);
      this.dropped++;
    }
  }

  has(id: string): boolean {
    return this.#kept.has(id);
  }

  /** Removes and returns the dead letter with this id, if it is kept. */
  take(id: string): DeadLetter | undefined {
    const letter = this.#kept.get(id);
    this.#forget(id);
    return letter;
  }

  list(): DeadLetter[] {
    return [...this.#kept.values()];
  }

  /** Payload bytes held by the kept letters. */
  get bytes(): number {
    return this.#bytes;
  }

  #forget(id: string): void {
    const letter = this.#kept.get(id);
    if (!letter) return;
    this.#kept.delete(id);
    this.#bytes -= letter.envelope.payload?.length ?? 0;
  }
}
