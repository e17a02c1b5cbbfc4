// Everything the tick loop does for the journal and for replay, in one place: what to record,
// what to feed back, and what to check. The runtime calls it at a few points and stays unaware
// of the details; with neither a journal nor a replay every call is a no-op. It writes nothing
// itself: what to record goes out as effects (`record`, `tickDone`, `closeJournal`), which the
// executor performs on the journal it holds, in order with the run's other effects.
import type { JournalRecord, Output } from '../../protocol/index.js';
import type { ReplayDriver } from './replay-driver.js';
import { type SentBatches, tickRecord } from './tick-record.js';

/** What replaying a kill did: killed a host, must wait for the agent's host, or cannot (gone). */
export type KillOutcome = 'killed' | 'wait' | 'gone';

/** Every how many ticks agents report a state hash (a checkpoint), unless the system says. */
export const DEFAULT_CHECKPOINT_EVERY = 100;

/** What the bridge asks the executor to do with the journal. */
export type JournalEffect =
  | { type: 'record'; record: JournalRecord }
  | { type: 'tickDone' }
  | { type: 'closeJournal' };

export class JournalBridge {
  /** Where effects go; undefined: the run keeps no journal. */
  readonly #out: ((effect: JournalEffect) => void) | undefined;
  /** Resuming: the run has gone past the recording. */
  #live = false;
  readonly #replay: ReplayDriver | undefined;
  readonly #checkpointEvery: number;
  /** Agents the replay killed between ticks whose exit has not been seen yet. */
  readonly #awaitingExit = new Set<string>();
  /** Agents whose host the replay itself killed: their exits are not journaled again. */
  readonly #replayKilled = new Set<string>();
  readonly #stateHashes = new Map<string, Uint8Array>();
  /** Recorded kills of agents that have no host to kill yet (their start is queued). */
  #pendingKills: Array<{ agent: string; tick: number }> = [];
  /** Agents whose host the replay killed as a bystander's: their exits start them again, uncharged. */
  readonly #bystanders = new Set<string>();
  #checkpointTick: number | undefined;

  /** `out`: where the effects of a journaled run go (none: the run keeps no journal). */
  constructor(
    out?: (effect: JournalEffect) => void,
    replay?: ReplayDriver,
    checkpointEvery = DEFAULT_CHECKPOINT_EVERY,
  ) {
    this.#out = out;
    this.#replay = replay;
    this.#checkpointEvery = checkpointEvery;
  }

  /** An input from outside, released at the boundary of `tick`. */
  entered(tick: number, from: string, output: Output): void {
    const { to, kind, payload, correlationId } = output;
    this.#write({ inject: { tick, from, to, kind, payload, correlationId } });
  }

  /**
   * A host process ended; a death we did not cause (and did not replay) is an external input.
   * `bystander`: it ended for another agent's fault (ExitInfo.bystander).
   */
  hostExited(
    agent: string,
    tick: number,
    inFlight: boolean,
    causedByUs: boolean,
    culprit = false,
    bystander = false,
  ): void {
    this.#awaitingExit.delete(agent);
    const replayed = this.#replayKilled.delete(agent);
    if (!causedByUs && !replayed)
      this.#write({ kill: { tick, agent, inFlight, culprit, ...(bystander ? { bystander } : {}) } });
  }

  /** Replay: whether the agent's host, which the replay just killed, died as a bystander did. */
  replayedBystander(agent: string): boolean {
    return this.#bystanders.delete(agent);
  }

  /**
   * The restart-intensity verdicts of a replayed tick, as recorded: the supervisors that gave up
   * at `tick` (the clock is not read then). Undefined for a live tick: the clock decides.
   */
  recordedEscalations(tick: number): ReadonlySet<string> | undefined {
    return this.#recorded(tick) ? this.#replay?.plan.escalationsAt(tick) : undefined;
  }

  /** A supervisor gave up on restart intensity at `tick`, by the clock: an input, journaled. */
  escalated(tick: number, supervisor: string): void {
    if (!this.#recorded(tick)) this.#write({ escalation: { tick, supervisor } });
  }

  crashed(tick: number, agent: string, reason: string): void {
    if (!this.#recorded(tick)) this.#write({ crash: { tick, agent, reason } });
  }

  /**
   * Before planning tick `next`: replays the kills recorded between ticks (false: wait for their
   * exits, or for a host to kill: an agent still waiting for its start has none yet), then stages
   * the inputs recorded for `next`.
   */
  beforePlan(
    tick: number,
    next: number,
    kill: (agent: string) => KillOutcome,
    stage: (from: string, output: Output) => void,
  ): boolean {
    const replay = this.#replay;
    if (!replay) return true;
    // Following a recording still being made: wait until it has gone past the next tick.
    if (!replay.mayPlan(next)) return false;
    this.#pendingKills.push(...replay.killsBetween(tick).map((agent) => ({ agent, tick })));
    this.#pendingKills = this.#pendingKills.filter((pending) => {
      const { agent } = pending;
      const outcome = kill(agent);
      if (outcome === 'killed') {
        this.#awaitingExit.add(agent);
        this.#replayKilled.add(agent);
        if (replay.plan.bystanderAt(pending.tick, agent)) this.#bystanders.add(agent);
      }
      return outcome === 'wait';
    });
    if (this.#awaitingExit.size > 0 || this.#pendingKills.length > 0) return false;
    replay.stageInputs(next, stage);
    return true;
  }

  /** Resuming: true once, for the first tick past the recording (the run goes on live from it). */
  goesLive(tick: number): boolean {
    if (!this.#replay || !this.#out || this.#live || this.#recorded(tick) || this.#replay.following)
      return false;
    this.#live = true;
    return true;
  }

  /** The last tick's records are complete: the journal's write policy may sync them now. */
  syncTick(): void {
    this.#out?.({ type: 'tickDone' });
  }

  /** Why stopping idle at `tick` is a divergence from the recording, if it is one. */
  idleDivergence(tick: number): string | undefined {
    const replay = this.#replay;
    if (!replay || tick >= replay.plan.lastTick) return undefined;
    return replay.diverged(
      `at tick ${tick}: the replay went idle; the recording goes on to tick ${replay.plan.lastTick}`,
    );
  }

  /** Whether agents report a state hash after `tick` (a checkpoint). */
  checkpointAt(tick: number): boolean {
    const due = (this.#out !== undefined || this.#replay !== undefined) && tick % this.#checkpointEvery === 0;
    if (due) this.#checkpointTick = tick;
    return due;
  }

  /** Replay: whether this agent died while holding its batch of `tick` (it is killed instead). */
  killedInFlight(tick: number, agent: string): boolean {
    const killed = this.#replay?.killsInFlight(tick).has(agent) ?? false;
    if (killed) this.#replayKilled.add(agent);
    if (killed && this.#replay?.plan.bystanderAt(tick, agent)) this.#bystanders.add(agent);
    return killed;
  }

  /** Replay: whether the host that died holding this agent's batch of `tick` died of that batch. */
  culpritInFlight(tick: number, agent: string): boolean {
    return this.#replay?.plan.culpritAt(tick, agent) ?? false;
  }

  /** A batch was handed out; returns a divergence from the recording, if any. */
  dispatched(tick: number, sent: SentBatches): string | undefined {
    // When resuming, recorded ticks are checked, not written again; new ticks are journaled.
    if (this.#recorded(tick)) return this.#replay?.check(tick, sent);
    this.#write(tickRecord(tick, sent));
    return undefined;
  }

  stateHash(agent: string, hash: Uint8Array): void {
    this.#stateHashes.set(agent, hash);
  }

  /** Every report of the tick is in; a checkpoint is journaled or checked. Returns a divergence. */
  tickOver(): string | undefined {
    const tick = this.#checkpointTick;
    if (tick === undefined) return undefined;
    this.#checkpointTick = undefined;
    const hashes = new Map([...this.#stateHashes].sort(([a], [b]) => (a < b ? -1 : 1)));
    this.#stateHashes.clear();
    if (this.#recorded(tick)) return this.#replay?.checkState(tick, hashes);
    this.#write({ checkpoint: { tick, agents: [...hashes.keys()], hashes: [...hashes.values()] } });
    return undefined;
  }

  close(): void {
    this.#out?.({ type: 'closeJournal' });
  }

  /** The tick belongs to the run being replayed (its records exist already). */
  /** True while the tick is part of the recording being replayed. */
  replaying(tick: number): boolean {
    return this.#recorded(tick);
  }

  #write(record: JournalRecord): void {
    this.#out?.({ type: 'record', record });
  }

  #recorded(tick: number): boolean {
    return this.#replay !== undefined && tick <= this.#replay.plan.lastTick;
  }
}
