// A recorded run as a source of inputs. The core never reads a journal: before planning a tick it
// asks for the recording through that tick (a `recording.wanted` effect), and the executor answers
// with what this source gives (a `recording` input): the records up to the first tick past the one
// wanted, so everything recorded about the ticks before it (kills, injections, model and tool
// answers, restart-intensity verdicts, delivery and state hashes) is in. A recording still being
// made (a standby following its coordinator) answers once it has gone past the tick, or is whole.
import type { JournalRecord } from '../../protocol/index.js';

/** The part of a recording the core is given at once (CoreInput `recording`). */
export interface RecordingSlice {
  records: JournalRecord[];
  /** Nothing more will come: past these records, the run goes on live. */
  whole: boolean;
  /** The last tick the recording holds so far (for the core's messages). */
  recordedTo: number;
}

export class ReplaySource {
  readonly #records: JournalRecord[] = [];
  /** How many records the core has been given, and the last tick recorded among them. */
  #given = 0;
  #givenTo = 0;
  #whole: boolean;
  #lastTick = 0;
  /** The tick the core waits to plan, while the recording has not gone past it yet. */
  #wanted: number | undefined;

  /** `following`: the recording is still being made; more comes by `extend`, its end by `complete`. */
  constructor(records: readonly JournalRecord[], options: { following?: boolean } = {}) {
    this.#whole = !(options.following ?? false);
    this.#append(records);
  }

  /** The last tick recorded so far. */
  get lastTick(): number {
    return this.#lastTick;
  }

  /** The core asks for the recording through tick `tick`: what to give it now, if anything. */
  want(tick: number): RecordingSlice | undefined {
    this.#wanted = tick;
    return this.#answer();
  }

  /** More of a recording being followed, in order; answers a waiting core when it can. */
  extend(records: readonly JournalRecord[]): RecordingSlice | undefined {
    this.#append(records);
    return this.#answer();
  }

  /** The recording followed is whole: the rest is given, then the run goes on live. */
  complete(): RecordingSlice | undefined {
    this.#whole = true;
    return this.#answer();
  }

  #append(records: readonly JournalRecord[]): void {
    for (const record of records) {
      this.#records.push(record);
      if (record.tick) this.#lastTick = Math.max(this.#lastTick, record.tick.tick ?? 0);
    }
  }

  /**
   * The records through the first tick past the one wanted. Short of it, a recording being
   * followed gives what it has and keeps the core's question until more comes.
   */
  #answer(): RecordingSlice | undefined {
    const wanted = this.#wanted;
    if (wanted === undefined) return undefined;
    // Given past it already: nothing more is needed for it.
    if (this.#givenTo > wanted) {
      this.#wanted = undefined;
      return undefined;
    }
    let end = this.#given;
    let reached = false;
    while (end < this.#records.length && !reached) {
      const record = this.#records[end] as JournalRecord;
      if (record.tick) this.#givenTo = Math.max(this.#givenTo, record.tick.tick ?? 0);
      reached = this.#givenTo > wanted;
      end++;
    }
    const records = this.#records.slice(this.#given, end);
    this.#given = end;
    const whole = this.#whole && this.#given === this.#records.length;
    if (reached || whole) this.#wanted = undefined;
    if (records.length === 0 && !whole) return undefined;
    return { records, whole, recordedTo: this.#lastTick };
  }
}
