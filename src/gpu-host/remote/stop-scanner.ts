// Stop strings over streamed text: what can be shown now, and where the text ends. Text that could
// be the start of a stop string is held back until the next piece says whether it is one, so no
// token ever shows text the final answer cuts.

export class StopScanner {
  readonly #stops: readonly string[];
  /** Everything received so far. */
  #text = '';
  /** How much of it has been released. */
  #released = 0;
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((stop) => stop.length > 0);
  }

  /** Takes a piece; returns the text that may be shown now and whether a stop string was found. */
  push(piece: string): { text: string; stopped: boolean } {
    if (this.#stopped) return { text: '', stopped: true };
    this.#text += piece;
    const cut = this.#firstStop();
    if (cut >= 0) {
      this.#text = this.#text.slice(0, cut);
      this.#stopped = true;
      return { text: this.#release(cut), stopped: true };
    }
    return { text: this.#release(this.#text.length - this.#heldBack()), stopped: false };
  }

  /** The tail held back so far: the stream ended without a stop string, so it is text after all. */
  finish(): string {
    return this.#release(this.#text.length);
  }

  /** The text so far (cut before the stop string, once one was found). */
  get text(): string {
    return this.#text;
  }

  #release(upTo: number): string {
    const text = this.#text.slice(this.#released, Math.max(upTo, this.#released));
    this.#released = Math.max(upTo, this.#released);
    return text;
  }

  #firstStop(): number {
    let first = -1;
    for (const stop of this.#stops) {
      const at = this.#text.indexOf(stop, Math.max(0, this.#released - stop.length + 1));
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  /** The length of the longest tail of the text that begins some stop string. */
  #heldBack(): number {
    let longest = 0;
    for (const stop of this.#stops)
      for (let length = Math.min(stop.length - 1, this.#text.length); length > longest; length--)
        if (this.#text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
    return longest;
  }
}
