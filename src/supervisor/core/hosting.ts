// The core's side of the host protocol: starting a host for an agent (through the start gate),
// loading its module, watchdogs, checking every frame a host sends, and its exit. What a report
// or an exit comes to for supervision is returned (HostOutcome), not acted on here: the core
// applies it (runtime-core.ts).
import { agentSeed, LOG_LEVELS } from '../../abi/index.js';
import type { ExitInfo } from '../../launch/index.js';
import { encodeCommand, type HostEvent } from '../../protocol/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { HostRef, TimerRef } from './core-io.js';
import type { CoreState } from './core-state.js';
import { describeExit } from './exit-reason.js';
import { checkHostFrame, hostFrameLimit } from './host-frame.js';
import { StartGate } from './start-gate.js';

/** What a host's report or exit came to, for supervision (the core applies it). */
export type HostOutcome =
  /** The agent crashed (`index`: the envelope of its batch it trapped on, when known). */
  | { type: 'crashed'; slot: AgentSlot; reason: string; index?: number }
  /** Its first start failed: the system cannot start. */
  | { type: 'startFailed'; slot: AgentSlot; reason: string }
  /** Its module can never load: no restart can help. */
  | { type: 'givenUp'; slot: AgentSlot; reason: string }
  /** Its host ended for another's fault: it starts again, charged nothing. */
  | { type: 'relaunch'; slot: AgentSlot; reason: string }
  /** It finished normally (its handler said so): an exit for its supervisor to decide. */
  | { type: 'finished'; slot: AgentSlot }
  /** It stopped while the system shuts down: the next one is asked to. */
  | { type: 'stopped' };

/** Pooled starts in flight per place of the start gate. */
const POOLED_STARTS_PER_PLACE = 32;

export class Hosting {
  readonly #s: CoreState;
  /** Each agent host by the number the core gave it. */
  readonly #hosts = new Map<HostRef, AgentSlot>();
  /** Starts of agents with a process or thread of their own. */
  readonly #gate: StartGate<AgentSlot>;
  /**
   * Starts of agents in the shared pool: nothing is forked or spawned for them, a pool thread loads
   * one after another, so more are in flight at once (with two, a thread waited for the
   * supervisor's answer between every two agents).
   */
  readonly #poolGate: StartGate<AgentSlot>;
  /** Every agent has started once (hosts may be started ahead of need since). */
  #systemStarted = false;
  /** Replay: first loads that failed while the recording's kills were under way (loadFailed). */
  readonly #held = new Map<AgentSlot, { generation: number; reason: string }>();

  constructor(state: CoreState) {
    this.#s = state;
    const { startConcurrency } = state.options;
    this.#gate = new StartGate(startConcurrency);
    this.#poolGate = new StartGate(startConcurrency * POOLED_STARTS_PER_PLACE);
  }

  /** The agent a host belongs to, while it is that agent's host. */
  agentOf(host: HostRef): string | undefined {
    return this.#hosts.get(host)?.name;
  }

  /** The gate the agent's host starts through. */
  #gateFor(slot: AgentSlot): StartGate<AgentSlot> {
    return slot.spec.isolation === 'shared' ? this.#poolGate : this.#gate;
  }

  /** Starts a host for the agent as soon as the start gate has room (its timeout starts then). */
  spawn(slot: AgentSlot): void {
    this.#gateFor(slot).request(slot, (next) => this.fork(next));
  }

  fork(slot: AgentSlot): void {
    // Queued while the system began to stop, or the agent was retired meanwhile.
    if (this.#s.stop || !slot.joining || slot.host !== undefined) {
      this.#gateFor(slot).release(slot);
      return;
    }
    const host = this.#s.newHost();
    this.#hosts.set(host, slot);
    slot.host = host;
    slot.faultReason = undefined;
    slot.byHand = false;
    slot.stalled = false;
    const { isolation, limits } = slot.spec;
    this.#s.effects.push({
      type: 'spawn',
      host,
      agent: slot.name,
      isolation,
      maxFrameBytes: hostFrameLimit(limits),
    });
    this.load(slot);
    // Replay: the recording saw this host die in the tick that runs now.
    const kill = this.#s.bridge.hosted(slot.name);
    if (kill) {
      this.#s.bridge.replayKilling(kill);
      this.#s.endHost(slot, kill.reason);
    }
  }

  load(slot: AgentSlot): void {
    const { fuel, maxMessageBytes, maxSendsPerMessage, memoryPages } = slot.spec.limits;
    slot.logLines = 0;
    const load = {
      modulePath: slot.modulePath,
      initData: slot.spec.initData,
      seed: agentSeed(this.#s.spec.seed, slot.name),
      generation: slot.generation,
      tick: slot.rejoinTick - 1,
      limits: { fuel, maxMessageBytes, maxSendsPerMessage, memoryPages },
      snapshotEvery: slot.spec.snapshotEvery,
      snapshot: slot.spec.snapshotEvery > 0 ? this.#s.options.snapshots.load(slot.name) : undefined,
      nextSeq: this.#s.scheduler.nextSeq(slot.name),
    };
    const ms = this.#s.options.startTimeoutMs;
    this.#s.send(
      slot,
      encodeCommand({ agent: slot.name, load }),
      `loading the module within ${ms} ms (start timeout)`,
      ms,
    );
  }

  onTimer(ref: TimerRef): void {
    const timer = this.#s.timers.get(ref);
    if (!timer) return;
    this.#s.timers.delete(ref);
    if (timer.slot.timer === ref) timer.slot.timer = undefined;
    if (timer.slot.host !== timer.host) return;
    if (timer.type === 'watchdog') {
      timer.slot.faultReason = timer.reason;
      timer.slot.stalled = true;
    }
    this.#s.effects.push({ type: 'kill', host: timer.host, stuck: true });
  }

  /** A frame from a host: each of its events, and what each came to. */
  onFrame(host: HostRef, bytes: unknown): HostOutcome[] {
    const slot = this.#hosts.get(host);
    if (!slot || slot.host !== host) return [];
    const check = checkHostFrame(bytes, {
      agent: slot.name,
      limits: slot.spec.limits,
      batch: this.#s.inflight.has(slot.name) ? this.#s.scheduler.inflightSize(slot.name) : 0,
      logLines: slot.logLines,
    });
    if (!check.ok) {
      this.hostFault(host, `sent a malformed frame: ${check.error}`);
      return [];
    }
    return check.events.flatMap((event) => this.#onHostEvent(slot, event) ?? []);
  }

  /**
   * A host broke the protocol or a limit its sandbox enforces: it cannot be trusted with its agent.
   * The frame is counted and refused, the host killed; its exit is the agent's crash.
   */
  hostFault(host: HostRef, what: string): void {
    const slot = this.#hosts.get(host);
    if (!slot || slot.host !== host) return;
    this.#s.rejectedFrames++;
    this.#s.emit({ type: 'frame.rejected', agent: slot.name, reason: what });
    slot.faultReason = `agent host ${what}`;
    this.#s.effects.push({ type: 'kill', host, stuck: true });
  }

  #onHostEvent(slot: AgentSlot, event: HostEvent): HostOutcome | undefined {
    const tick = this.#s.scheduler.tick;
    if (!event.log) this.#s.disarm(slot);
    if (event.log) {
      slot.logLines++;
      const level = LOG_LEVELS[event.log.level ?? 1] ?? 'info';
      this.#s.emit({
        type: 'agent.log',
        agent: slot.name,
        level,
        text: event.log.text ?? '',
        tick: event.log.tick ?? 0,
      });
    } else if (this.#diesLoading(slot, event)) {
      // Replay: the recording saw this host die before its load failed; it dies so here too, when
      // its turn comes. Its place at the start gate is given up, as after any failed load.
      this.#gateFor(slot).release(slot);
      return undefined;
    } else if (event.ready && event.ready.generation === slot.generation && slot.joining) {
      slot.started = true;
      slot.initOutputs = event.ready.outputs ?? [];
      slot.send({ type: 'READY' });
      // After READY, so the next start is seen after this agent runs (one start per core at a time).
      this.#gateFor(slot).release(slot);
      // Once every agent has started, hosts can be started ahead of need without slowing anyone.
      if (!this.#systemStarted && this.#s.joining.size === 0) {
        this.#systemStarted = true;
        this.#s.effects.push({ type: 'started' });
      }
    } else if (event.done && event.done.tick === tick && this.#s.inflight.delete(slot.name)) {
      const handled = event.done.finished ? (event.done.handled ?? 0) : undefined;
      this.#s.scheduler.complete(slot.name, event.done.outputs ?? [], handled);
      slot.usage = { fuelUsed: event.done.fuelUsed ?? 0, memoryPages: event.done.memoryPages ?? 0 };
      if (event.done.snapshot && event.done.snapshot.length > 0)
        this.#s.options.snapshots.save(slot.name, event.done.snapshot);
      if (event.done.stateHash && event.done.stateHash.length > 0)
        this.#s.bridge.stateHash(slot.name, event.done.stateHash);
      if (event.done.finished) {
        // An agent that finished starts over from init if it is restarted.
        this.#s.options.snapshots.drop(slot.name);
        slot.send({ type: 'FINISHED' });
      }
      this.#afterBatch(slot);
      if (event.done.finished) return { type: 'finished', slot };
    } else if (event.failed && event.failed.tick === tick && this.#s.inflight.has(slot.name)) {
      this.#afterBatch(slot);
      const reason = event.failed.reason ?? 'unknown failure';
      return { type: 'crashed', slot, reason, index: event.failed.index ?? 0 };
    } else if (event.loadFailed && event.loadFailed.generation === slot.generation && slot.joining) {
      // Only an agent still joining can fail to start: one being stopped meanwhile (its siblings'
      // strategy retired it) has no start left to fail, whenever its answer comes.
      return this.#loadFailed(slot, event.loadFailed);
    }
    return undefined;
  }

  #loadFailed(
    slot: AgentSlot,
    failed: { reason?: string | null; permanent?: boolean | null },
  ): HostOutcome | undefined {
    this.#gateFor(slot).release(slot);
    const reason = failed.reason ?? 'load failed';
    if (failed.permanent) return { type: 'givenUp', slot, reason };
    if (slot.started) return { type: 'crashed', slot, reason };
    // Replay: the recording's kills here are not all done. Whether it saw this failure before a
    // death that retired or restarted the agent is not recorded, and a start that failed ends the
    // run: it is taken once they are done (heldStartFailure), if the agent is still joining.
    if (this.#s.bridge.killsUnderWay(this.#s.scheduler.tick)) {
      this.#held.set(slot, { generation: slot.generation, reason });
      return undefined;
    }
    return { type: 'startFailed', slot, reason };
  }

  /** Replay: a start failure held while the recording's kills were under way, still standing. */
  heldStartFailure(): { type: 'startFailed'; slot: AgentSlot; reason: string } | undefined {
    for (const [slot, { generation, reason }] of this.#held) {
      this.#held.delete(slot);
      if (slot.joining && slot.generation === generation) return { type: 'startFailed', slot, reason };
    }
    return undefined;
  }

  /**
   * Replay: a failed load whose host the recording saw die before it answered. Only a failure is
   * put aside: taken, it would stop or restart the agent where the recording did not, while a
   * ready agent killed next is restarted as one killed loading is.
   */
  #diesLoading(slot: AgentSlot, event: HostEvent): boolean {
    const generation = event.loadFailed?.generation;
    return (
      generation !== undefined && generation !== null && this.#s.bridge.diesLoading(slot.name, generation)
    );
  }

  /** Replay: the recording saw the agent's host die after it handed its batch back, in this tick. */
  #afterBatch(slot: AgentSlot): void {
    const kill = this.#s.bridge.batchHandedBack(slot.name);
    if (!kill) return;
    this.#s.bridge.replayKilling(kill);
    this.#s.endHost(slot, kill.reason);
  }

  /** A host ended: what that came to for its agent, if it was still that agent's host. */
  onExit(host: HostRef, info: ExitInfo): HostOutcome | undefined {
    const slot = this.#hosts.get(host);
    this.#hosts.delete(host);
    if (!slot || slot.host !== host) return undefined;
    this.#gateFor(slot).release(slot);
    slot.host = undefined;
    this.#s.disarm(slot);
    if (this.#s.shuttingDown || slot.state === 'stopping') {
      slot.send({ type: 'STOPPED' });
      return this.#s.shuttingDown ? { type: 'stopped' } : undefined;
    }
    if (
      slot.state !== 'stopped' &&
      slot.state !== 'failed' &&
      slot.faultReason === undefined &&
      (info.bystander === true || this.#s.bridge.replayedBystander(slot.name))
    ) {
      // Its host ended for another agent's fault: journaled, so a replay starts it again the same.
      const inFlight = this.#s.inflight.has(slot.name);
      this.#s.bridge.hostExited(slot.name, this.#s.scheduler.tick, {
        inFlight,
        causedByUs: false,
        bystander: true,
        duringTick: !inFlight && this.#s.inflight.size > 0,
        ...(slot.joining ? { loading: slot.generation } : {}),
      });
      return { type: 'relaunch', slot, reason: describeExit(info) };
    }
    if (slot.state !== 'stopped' && slot.state !== 'failed') {
      // A death we did not cause (kill -9, OOM killer, a kill command) is an external input, and
      // so is one the operator asked for (a restart by hand).
      const inFlight = this.#s.inflight.has(slot.name);
      // A host that ended by itself while running this agent: its batch is to blame, as a stall's.
      const culprit = info.culprit === true && slot.faultReason === undefined;
      if (culprit) slot.stalled = true;
      this.#s.bridge.hostExited(slot.name, this.#s.scheduler.tick, {
        inFlight,
        causedByUs: slot.faultReason !== undefined && !slot.byHand,
        culprit,
        duringTick: !inFlight && this.#s.inflight.size > 0,
        ...(slot.byHand && slot.faultReason ? { reason: slot.faultReason } : {}),
        ...(slot.joining ? { loading: slot.generation } : {}),
      });
      // A first start that passed its start timeout means the agent could not start; a death
      // from outside, or a host we ended for breaking the protocol, is a crash like any other.
      if (!slot.started && slot.stalled && slot.faultReason)
        return { type: 'startFailed', slot, reason: slot.faultReason };
      return { type: 'crashed', slot, reason: slot.faultReason ?? describeExit(info) };
    }
    this.#s.bridge.hostExited(slot.name, this.#s.scheduler.tick, { inFlight: false, causedByUs: true });
    return undefined;
  }
}
