// Outputs waiting for a tick boundary: staged (released at the next tick) or delayed (timers,
// released at the tick they are due), each stamped when sent with its source's next sequence
// number, so the ids an SDK reports are the ids the envelopes get; inputs from outside, stamped
// at the release; and the payload bytes each source has waiting (injections are bounded by them).
// The scheduler releases what is due.
import { type Output, ownBytes } from '../../protocol/index.js';

/** An output with the sequence number it was given when staged. */
export interface Stamped {
  output: Output;
  seq: number;
}

export class Staging {
  readonly #seq = new Map<string, number>();
  /** Outputs to release at the next tick, by source, in send order. */
  readonly #staged = new Map<string, Stamped[]>();
  /** The payload bytes each source has staged. */
  readonly #bytes = new Map<string, number>();
  /** Delayed outputs (timers), in the order sent, with the tick they are released at. */
  readonly #timers: Array<{ due: number; source: string; item: Stamped }> = [];
  /**
   * Inputs from outside (injections, model answers, re-sent dead letters), in arrival order. They
   * are stamped at the release, after everything their source sent itself: when one arrived
   * within the tick is not part of the run (a replay stages it at the boundary), and a re-sent
   * letter of an agent must not take a number the agent was told its next output gets.
   */
  readonly #entering: Array<{ source: string; output: Output }> = [];

  /** Outputs waiting for the next release. */
  get any(): boolean {
    return this.#staged.size > 0 || this.#entering.length > 0;
  }

  /** The sequence number the source's next output will be stamped with. */
  nextSeq(source: string): number {
    return (this.#seq.get(source) ?? 0) + 1;
  }

  /** Outputs of `source` sent during tick `tick`: for the next tick, or later when delayed. */
  add(source: string, outputs: readonly Output[], tick: number): void {
    let seq = this.#seq.get(source) ?? 0;
    const now: Stamped[] = [];
    for (const output of outputs) {
      seq++;
      const delay = output.delayTicks ?? 0;
      // A timer may wait long: its output keeps bytes of its own, not a view into its frame.
      if (delay > 0)
        this.#timers.push({ due: tick + 1 + delay, source, item: { output: ownBytes(output), seq } });
      else now.push({ output, seq });
    }
    this.#seq.set(source, seq);
    if (now.length === 0) return;
    this.#count(
      source,
      now.map((item) => item.output),
    );
    const staged = this.#staged.get(source);
    if (staged) staged.push(...now);
    else this.#staged.set(source, now);
  }

  /** An input from outside, for the next release. */
  enter(source: string, output: Output): void {
    this.#entering.push({ source, output });
    this.#count(source, [output]);
  }

  /** The tick the earliest timer is due at, if any waits. */
  get nextTimer(): number | undefined {
    let due: number | undefined;
    for (const timer of this.#timers) if (due === undefined || timer.due < due) due = timer.due;
    return due;
  }

  /** Due timers join the staged outputs, ahead of their source's newer ones (sent earlier). */
  releaseTimers(tick: number): void {
    const due = this.#timers.filter((timer) => timer.due <= tick);
    if (due.length === 0) return;
    this.#timers.splice(0, this.#timers.length, ...this.#timers.filter((timer) => timer.due > tick));
    const bySource = new Map<string, Stamped[]>();
    for (const { source, item } of due.sort((a, b) => a.due - b.due || a.item.seq - b.item.seq)) {
      bySource.set(source, [...(bySource.get(source) ?? []), item]);
    }
    for (const [source, items] of bySource) {
      this.#count(
        source,
        items.map((item) => item.output),
      );
      this.#staged.set(source, [...items, ...(this.#staged.get(source) ?? [])]);
    }
  }

  /** The payload bytes `source` has staged for the next tick. */
  bytes(source: string): number {
    return this.#bytes.get(source) ?? 0;
  }

  /** Every output waiting for a boundary, by sender: staged ones, then timers. */
  all(): Array<{ from: string; output: Output }> {
    const staged = [...this.#staged].flatMap(([from, items]) =>
      items.map(({ output }) => ({ from, output })),
    );
    const entering = this.#entering.map(({ source, output }) => ({ from: source, output }));
    const timers = this.#timers.map(({ source, item }) => ({ from: source, output: item.output }));
    return [...staged, ...entering, ...timers];
  }

  /** Takes what is staged for this release, by source; what is staged from now on waits for the next. */
  take(): Map<string, Stamped[]> {
    for (const { source, output } of this.#entering.splice(0)) {
      const seq = this.nextSeq(source);
      this.#seq.set(source, seq);
      const staged = this.#staged.get(source);
      if (staged) staged.push({ output, seq });
      else this.#staged.set(source, [{ output, seq }]);
    }
    const staged = new Map(this.#staged);
    this.#staged.clear();
    this.#bytes.clear();
    return staged;
  }

  #count(source: string, outputs: readonly Output[]): void {
    let bytes = this.#bytes.get(source) ?? 0;
    for (const output of outputs) bytes += output.payload?.length ?? 0;
    this.#bytes.set(source, bytes);
  }
}
