// The core's side of a replay: the recording as it has been given (ReplaySource, as `recording`
// inputs), recorded inputs staged at their ticks, recorded kills at the same point of the run, and
// a check of every tick's deliveries against the recording.
import type { Output } from '../../protocol/index.js';
import { type RecordedInput, type RecordedKill, ReplayPlan } from './replay-plan.js';
import type { RecordingSlice } from './replay-source.js';
import type { SentBatches } from './tick-record.js';

export class ReplayDriver {
  readonly plan = new ReplayPlan([]);
  /** The first difference from the recording, once there is one. */
  divergence: string | undefined;
  /** The tick of the first divergence, when there was one. */
  divergenceTick: number | undefined;
  /** The tick whose recorded inputs are being staged, and how many of them are. */
  #staging = { next: 0, count: 0 };
  #killsDoneFor = -1;
  /** The whole recording has been given: past it, the run goes on live. */
  #whole = false;
  /** The last tick the recording holds so far, as its source says (the plan may hold less). */
  #recordedTo = 0;

  /** Whether more of the recording may still come (a run followed while it is recorded). */
  get following(): boolean {
    return !this.#whole;
  }

  /** The last tick of the recording as far as it is known. */
  get recordedTo(): number {
    return this.#recordedTo;
  }

  /**
   * Whether tick `next` may be planned now: once the recording has gone past it (so everything
   * recorded about it, such as a host that died holding its batch, is there), or is whole.
   */
  mayPlan(next: number): boolean {
    return this.#whole || next < this.plan.lastTick;
  }

  /** More of the recording (ReplaySource): records after those given, in order. */
  append({ records, whole, recordedTo }: RecordingSlice): void {
    this.plan.append(records);
    if (whole) this.#whole = true;
    this.#recordedTo = Math.max(this.#recordedTo, recordedTo);
  }

  /**
   * Stages the inputs recorded for tick `next` that arrived after at most `released` releases of
   * its boundary, each once; true while later ones wait for another release.
   */
  stageInputs(next: number, released: number, stage: (from: string, output: Output) => void): boolean {
    if (this.#staging.next !== next) this.#staging = { next, count: 0 };
    const inputs = this.plan.injectsAt(next);
    for (; this.#staging.count < inputs.length; this.#staging.count++) {
      const input = inputs[this.#staging.count] as RecordedInput;
      if (input.release > released) return true;
      stage(input.from, input.output);
    }
    return false;
  }

  /** Kills of agents after `tick` was over, before the next began; each returned once. */
  killsBetween(tick: number): RecordedKill[] {
    if (this.#killsDoneFor >= tick) return [];
    this.#killsDoneFor = tick;
    return this.plan.killsAt(tick).filter((kill) => !kill.inFlight && !kill.duringTick);
  }

  /** Kills of agents while `tick` ran, of agents that held no batch of it or had handed it back. */
  killsDuring(tick: number): RecordedKill[] {
    return this.plan.killsAt(tick).filter((kill) => kill.duringTick);
  }

  /** The kill of an agent while it held its batch of `tick` (the batch is not sent, the host dies). */
  killInFlight(tick: number, agent: string): RecordedKill | undefined {
    return this.plan.killsAt(tick).find((kill) => kill.inFlight && kill.agent === agent);
  }

  /** Undefined when the tick matches the recording, else what differs. */
  check(tick: number, sent: SentBatches): string | undefined {
    const hashes = new Map(sent.map((batch) => [batch.agent, batch.hash]));
    const problem = this.plan.check(tick, hashes);
    if (problem) this.divergenceTick ??= tick;
    return problem ? this.diverged(`at tick ${tick}: ${problem}`) : undefined;
  }

  /** Undefined when the agents' states after `tick` match the recorded checkpoint, else what differs. */
  checkState(tick: number, hashes: ReadonlyMap<string, Uint8Array>): string | undefined {
    const problem = this.plan.checkState(tick, hashes);
    if (problem) this.divergenceTick ??= tick;
    return problem ? this.diverged(`at tick ${tick}: ${problem}`) : undefined;
  }

  /** Records a difference from the recording and returns the reason to stop with. */
  diverged(what: string): string {
    this.divergence ??= `replay diverged ${what}`;
    return this.divergence;
  }
}
