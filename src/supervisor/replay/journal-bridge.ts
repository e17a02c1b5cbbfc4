// Everything the tick loop does for the journal and for replay, in one place: what to record,
// what to feed back, and what to check. The runtime calls it at a few points and stays unaware
// of the details; with neither a journal nor a replay every call is a no-op. It writes nothing
// itself: what to record goes out as effects (`record`, `tickDone`, `closeJournal`), which the
// executor performs on the journal it holds, in order with the run's other effects. It reads
// nothing either: a replay's recording comes in as the core asks for it (a `recording.wanted`
// effect, answered by a `recording` input from the executor's ReplaySource).
import type { JournalRecord, Output } from '../../protocol/index.js';
import type { Escalation } from '../core/supervision.js';
import { ReplayDriver } from './replay-driver.js';
import type { RecordedKill } from './replay-plan.js';
import type { RecordingSlice } from './replay-source.js';
import { type SentBatches, tickRecord } from './tick-record.js';

/**
 * What replaying a kill did: killed a host (its exit is awaited), must wait for the agent's host,
 * cannot (gone), or ended the GPU host, whose death is decided before the next kill (died).
 */
export type KillOutcome = 'killed' | 'wait' | 'gone' | 'died';

/**
 * Whether the next tick may be planned: not yet (wait for exits, a host, or the recording),
 * after deciding the exits a replayed kill caused (decide, then ask again), not before releasing
 * what waits with no tick begun, as the recording did (release, then ask again), or now (ready).
 */
export type BeforePlan = 'wait' | 'decide' | 'release' | 'ready';

/** Every how many ticks agents report a state hash (a checkpoint), unless the system says. */
export const DEFAULT_CHECKPOINT_EVERY = 100;

/** How a host ended, as the journal records it. */
export interface HostExit {
  /** The agent held a batch of the tick. */
  inFlight: boolean;
  /** The core ended it for a reason of its own (a watchdog, a broken protocol): not an input. */
  causedByUs: boolean;
  /** It ended by itself while running the agent (ExitInfo.culprit). */
  culprit?: boolean;
  /** It ended for another agent's fault (ExitInfo.bystander). */
  bystander?: boolean;
  /** The operator ended it (a restart by hand), for this reason. */
  reason?: string;
  /** The tick was running, though the agent held no batch of it (or had handed it back). */
  duringTick?: boolean;
  /** The host had not answered its load yet (the agent was starting): the load's generation. */
  loading?: number;
}

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
  /** Replay: asks for the recording through a tick (an effect the executor answers with it). */
  readonly #asker: { want(tick: number): void } | undefined;
  /** Replay: the tick the recording was last asked through, until it comes. */
  #asked: number | undefined;
  readonly #checkpointEvery: number;
  /** Agents the replay killed between ticks whose exit has not been seen yet. */
  readonly #awaitingExit = new Set<string>();
  /** Agents whose host the replay itself killed, as recorded: their exits are not journaled again. */
  readonly #replayKilled = new Map<string, RecordedKill>();
  readonly #stateHashes = new Map<string, Uint8Array>();
  /** Recorded kills of agents that have no host to kill yet (their start is queued). */
  #pendingKills: Array<RecordedKill & { tick: number }> = [];
  /** Agents whose host the replay killed as a bystander's: their exits start them again, uncharged. */
  readonly #bystanders = new Set<string>();
  #checkpointTick: number | undefined;
  /** Recorded kills during a tick of agents whose start was still queued at the replay's tick. */
  readonly #whenHosted = new Map<string, RecordedKill>();
  /** Recorded kills during a tick of agents that had handed their batch back first. */
  readonly #afterBatch = new Map<string, RecordedKill>();
  /**
   * The releases the boundary after `tick` made with no batch to hand out (the system idle, or
   * all it released dead-lettered): inputs and deaths between ticks are journaled with how many
   * came before them, so a replay puts them on the same side of each release.
   */
  #releases = { tick: -1, count: 0 };

  /**
   * `out`: where the effects of a journaled run go (none: the run keeps no journal). `replay`: the
   * run replays a recording, which comes as the core asks for it (`want`, answered by `recording`).
   */
  constructor(
    out?: (effect: JournalEffect) => void,
    replay?: { want(tick: number): void },
    checkpointEvery = DEFAULT_CHECKPOINT_EVERY,
  ) {
    this.#out = out;
    this.#replay = replay ? new ReplayDriver() : undefined;
    this.#asker = replay;
    this.#checkpointEvery = checkpointEvery;
  }

  /** Replay: more of the recording, as asked for. */
  recording(slice: RecordingSlice): void {
    this.#replay?.append(slice);
    this.#asked = undefined;
  }

  /**
   * Replay: the first difference from the recording, if the run departed from it, with the tick
   * whose deliveries or states differed (none when the replay went idle or stopped short).
   */
  get divergence(): { reason: string; tick?: number } | undefined {
    const replay = this.#replay;
    if (replay?.divergence === undefined) return undefined;
    const { divergence: reason, divergenceTick: tick } = replay;
    return tick === undefined ? { reason } : { reason, tick };
  }

  /** An input from outside, released at the boundary of `tick`. */
  entered(tick: number, from: string, output: Output): void {
    const { to, kind, payload, correlationId } = output;
    const release = this.#releasesAt(tick - 1);
    this.#write({
      inject: { tick, from, to, kind, payload, correlationId, ...(release > 0 ? { release } : {}) },
    });
  }

  /** The boundary after `tick` released what waited for it, and no tick began. */
  released(tick: number): void {
    if (this.#releases.tick === tick) this.#releases.count++;
    else this.#releases = { tick, count: 1 };
  }

  #releasesAt(tick: number): number {
    return this.#releases.tick === tick ? this.#releases.count : 0;
  }

  /** A host process ended; a death we did not cause (and did not replay) is an external input. */
  hostExited(agent: string, tick: number, exit: HostExit): void {
    this.#awaitingExit.delete(agent);
    const replayed = this.#replayKilled.delete(agent);
    if (exit.causedByUs || replayed) return;
    const { inFlight, culprit = false, bystander, reason, duringTick, loading } = exit;
    const release = inFlight || duringTick ? 0 : this.#releasesAt(tick);
    this.#write({
      kill: {
        tick,
        agent,
        inFlight,
        culprit,
        ...(bystander ? { bystander } : {}),
        ...(reason ? { reason } : {}),
        ...(duringTick ? { duringTick } : {}),
        ...(release > 0 ? { release } : {}),
        ...(loading === undefined ? {} : { loading: true, generation: loading }),
      },
    });
  }

  /**
   * Replay: whether the agent's host dies, as recorded, before it answers the load of this
   * generation (so a failure of that load that comes first is not taken): the host the replay is
   * killing, or a death recorded at this boundary that is still to be replayed.
   */
  diesLoading(agent: string, generation: number): boolean {
    const dies = (kill: RecordedKill | undefined) => kill?.agent === agent && kill.loading === generation;
    return (
      dies(this.#replayKilled.get(agent)) ||
      dies(this.#whenHosted.get(agent)) ||
      this.#pendingKills.some(dies)
    );
  }

  /**
   * Replay: the recording's kills at this boundary are under way: an exit is awaited, a host is
   * awaited to kill, or the next kill is due (it waits for no further release of the boundary).
   */
  killsUnderWay(tick: number): boolean {
    if (this.awaitingExits) return true;
    const next = this.#pendingKills[0];
    return next !== undefined && (next.tick < tick || next.release <= this.#releasesAt(tick));
  }

  /** Replay: exits of hosts the replay killed (or will, once started) are still to come. */
  get awaitingExits(): boolean {
    return this.#awaitingExit.size > 0 || this.#whenHosted.size > 0;
  }

  /** Replay: the agent's host, still to be started, died in this tick when recorded. */
  killWhenHosted(kill: RecordedKill): void {
    this.#whenHosted.set(kill.agent, kill);
  }

  /** Replay: the agent has a host now; the recorded kill waiting for it, if any. */
  hosted(agent: string): RecordedKill | undefined {
    const kill = this.#whenHosted.get(agent);
    this.#whenHosted.delete(agent);
    return kill;
  }

  /** Replay: the host of `kill.agent` is being ended as recorded; its exit is awaited. */
  replayKilling(kill: RecordedKill): void {
    this.#awaitingExit.add(kill.agent);
    this.#replayKilled.set(kill.agent, kill);
    if (kill.bystander) this.#bystanders.add(kill.agent);
  }

  /**
   * Replay: the kills recorded during `tick` of agents holding no batch of it. Those that hold
   * one now (`holding`) are returned when it is handed back (`batchHandedBack`); the rest now.
   */
  killsDuring(tick: number, holding: (agent: string) => boolean): RecordedKill[] {
    const now: RecordedKill[] = [];
    for (const kill of this.#replay?.killsDuring(tick) ?? []) {
      if (holding(kill.agent)) this.#afterBatch.set(kill.agent, kill);
      else now.push(kill);
    }
    return now;
  }

  /** Replay: the agent handed its batch back; the recorded kill that followed, if any. */
  batchHandedBack(agent: string): RecordedKill | undefined {
    const kill = this.#afterBatch.get(agent);
    this.#afterBatch.delete(agent);
    return kill;
  }

  /** Replay: whether the agent's host, which the replay just killed, died as a bystander did. */
  replayedBystander(agent: string): boolean {
    return this.#bystanders.delete(agent);
  }

  /**
   * The restart-intensity verdicts of a replayed tick, as recorded: the restart checks that gave
   * up at `tick` (the clock is not read then). Undefined for a live tick: the clock decides.
   */
  recordedEscalations(tick: number): readonly Escalation[] | undefined {
    return this.#recorded(tick) ? this.#replay?.plan.escalationsAt(tick) : undefined;
  }

  /** A supervisor gave up on restart intensity at `tick`, by the clock: an input, journaled. */
  escalated(tick: number, { supervisor, check }: Escalation): void {
    if (!this.#recorded(tick))
      this.#write({ escalation: { tick, supervisor, ...(check > 0 ? { check } : {}) } });
  }

  crashed(tick: number, agent: string, reason: string): void {
    if (!this.#recorded(tick)) this.#write({ crash: { tick, agent, reason } });
  }

  /**
   * Before planning tick `next`: replays the kills recorded between ticks (wait for their exits,
   * or for a host to kill: an agent still waiting for its start has none yet), then stages the
   * inputs recorded for `next`.
   */
  beforePlan(
    tick: number,
    next: number,
    kill: (kill: RecordedKill) => KillOutcome,
    stage: (from: string, output: Output) => void,
  ): BeforePlan {
    const replay = this.#replay;
    if (!replay) return 'ready';
    // The recording is given as it is asked for: wait until it has gone past the next tick.
    if (!replay.mayPlan(next)) {
      if (this.#asked !== next) {
        this.#asked = next;
        this.#asker?.want(next);
      }
      return 'wait';
    }
    this.#pendingKills.push(...replay.killsBetween(tick).map((recorded) => ({ ...recorded, tick })));
    // Deaths between ticks are decided as their exits arrive, so their order is part of the run:
    // the replay kills one host at a time, in recorded order, each exit seen before the next kill
    // (two hosts killed at once would exit in any order, and one killed twice would die once).
    // Each comes after as many releases of this boundary as when it was recorded.
    const released = this.#releasesAt(tick);
    while (this.#awaitingExit.size === 0 && this.#pendingKills.length > 0) {
      const pending = this.#pendingKills[0] as RecordedKill & { tick: number };
      if (pending.tick === tick && pending.release > released) break;
      const outcome = kill(pending);
      if (outcome === 'wait') return 'wait';
      this.#pendingKills.shift();
      if (outcome === 'killed') this.replayKilling(pending);
      if (outcome === 'died') return 'decide';
    }
    if (this.#awaitingExit.size > 0) return 'wait';
    const laterInputs = replay.stageInputs(next, released, stage);
    return laterInputs || this.#pendingKills.length > 0 ? 'release' : 'ready';
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
    if (!replay || tick >= replay.recordedTo) return undefined;
    return replay.diverged(
      `at tick ${tick}: the replay went idle; the recording goes on to tick ${replay.recordedTo}`,
    );
  }

  /** Whether agents report a state hash after `tick` (a checkpoint). */
  checkpointAt(tick: number): boolean {
    const due = (this.#out !== undefined || this.#replay !== undefined) && tick % this.#checkpointEvery === 0;
    if (due) this.#checkpointTick = tick;
    return due;
  }

  /** Replay: the recorded death of this agent's host while it held its batch of `tick`, if any. */
  killedInFlight(tick: number, agent: string): RecordedKill | undefined {
    const kill = this.#replay?.killInFlight(tick, agent);
    if (kill) this.#replayKilled.set(agent, kill);
    if (kill?.bystander) this.#bystanders.add(agent);
    return kill;
  }

  /** Replay: how many times the host (the GPU host's) died while `tick` ran, when recorded. */
  deathsInFlight(tick: number, host: string): number {
    return (
      this.#replay?.plan.killsAt(tick).filter((kill) => kill.inFlight && kill.agent === host).length ?? 0
    );
  }

  /** Replay: a recorded kill comes back to wait for a host (it had none when it was due). */
  killLater(tick: number, kill: RecordedKill): void {
    this.#pendingKills.push({ ...kill, tick });
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
