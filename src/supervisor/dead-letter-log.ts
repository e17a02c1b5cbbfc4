// The dead letters a run keeps for listing and re-injection: the newest ones, by id.
import { envelopeId } from '../protocol/index.js';
import type { DeadLetter } from './scheduler.js';

export class DeadLetterLog {
  readonly #kept = new Map<string, DeadLetter>();
  readonly #limit: number;
  /** Every dead letter ever added, kept or not. */
  count = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(letter: DeadLetter): void {
    this.count++;
    this.#kept.set(envelopeId(letter.envelope), letter);
    if (this.#kept.size > this.#limit) this.#kept.delete(this.#kept.keys().next().value as string);
  }

  /** Removes and returns the dead letter with this id, if it is kept. */
  take(id: string): DeadLetter | undefined {
    const letter = this.#kept.get(id);
    this.#kept.delete(id);
    return letter;
  }

  list(): DeadLetter[] {
    return [...this.#kept.values()];
  }
}
