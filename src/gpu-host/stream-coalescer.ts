// Streamed tokens leave the GPU host in fewer messages. Each crossing of a thread or a process
// wakes the other side, and on a small model one wake-up per token cost more than the decode step
// that made it: a single stream through the host ran at 0.54-0.66x of a plain loop with a token
// crossing twice each, 0.85x with none (issue 29). A generation's first token goes at once (time to
// first token is not delayed), as does the first item after a quiet window; items that follow within
// the window wait for its end and go together; anything that is not a streamed token takes what
// waits with it at once, in order. A model whose step is longer than the window (any real model on
// a CPU) still sends every token alone, when it is made.

/**
 * How long streamed tokens may wait to leave together, at each of the GPU host's two crossings:
 * below a tick of a busy system and a frame of a screen, so neither an agent nor a person sees it.
 */
export const TOKEN_WINDOW_MS = 8;

/** Where the coalescer sends, how it tells the time and how it waits (injected, for tests). */
export interface CoalescerEdges<T> {
  send(items: T[]): void;
  now(): number;
  later(run: () => void, ms: number): void;
}

export class StreamCoalescer<T> {
  readonly #edges: CoalescerEdges<T>;
  readonly #windowMs: number;
  #waiting: T[] = [];
  #timer = false;
  /** When the last items went out. */
  #sentAt = Number.NEGATIVE_INFINITY;

  constructor(edges: CoalescerEdges<T>, windowMs: number) {
    this.#edges = edges;
    this.#windowMs = windowMs;
  }

  /**
   * Streamed items: at once after a quiet window, else with the others at the window's end. An
   * urgent one (a generation's first token) goes at once with whatever waits, and starts a window.
   */
  stream(items: T[], urgent = false): void {
    this.#waiting.push(...items);
    if (this.#timer && !urgent) return;
    const due = urgent ? 0 : this.#sentAt + this.#windowMs - this.#edges.now();
    if (due <= 0) {
      this.#flush(true);
      return;
    }
    this.#timer = true;
    this.#edges.later(() => {
      this.#timer = false;
      this.#flush(true);
    }, due);
  }

  /**
   * Anything else: sent now, after whatever streamed items wait. It does not start a window: the
   * first token of a generation that follows another's end still goes at once.
   */
  now(items: T[]): void {
    this.#waiting.push(...items);
    this.#flush(false);
  }

  #flush(streamed: boolean): void {
    if (this.#waiting.length === 0) return;
    const items = this.#waiting;
    this.#waiting = [];
    if (streamed) this.#sentAt = this.#edges.now();
    this.#edges.send(items);
  }
}
