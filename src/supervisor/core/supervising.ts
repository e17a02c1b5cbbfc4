// Applying OTP decisions: a crash is recorded and its exit decided at the tick boundary by the
// supervision tree (supervision.ts); restarts, retirements and the GPU host's deaths follow. What
// a decision needs of other parts (a host started, the system stopped) is returned to the core.
import { encodeCommand } from '../../protocol/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { CoreState } from './core-state.js';
import {
  type ChildExit,
  type Decision,
  decideExit,
  GPU_HOST,
  NO_HISTORY,
  type RestartHistory,
  TOOL_HOST,
} from './supervision.js';

/** What applying a decision needs of the rest of the core: hosts to (re)start, the system to stop. */
export interface Applied {
  /** Agents to start a fresh instance of, in order: in their host if it is alive, else in a new one. */
  start: AgentSlot[];
  /** The system stops, for this reason. */
  stop?: string;
}

/** The hosts that serve agents, children of the tree like agents. */
export type ServiceHost = typeof GPU_HOST | typeof TOOL_HOST;

export function isService(child: string): child is ServiceHost {
  return child === GPU_HOST || child === TOOL_HOST;
}

export class Supervising {
  readonly #s: CoreState;
  /** Restart times per supervisor and restart streaks per child (supervision.ts decides over them). */
  #history: RestartHistory = NO_HISTORY;
  /** Children that ended during the tick in flight; decided at the tick boundary, in rank order. */
  #exits: ChildExit[] = [];
  /** Service hosts (the GPU host, the tool host) whose recorded death was replayed by killing the live one: its coming exit is already decided. */
  readonly #deathReplayed = new Set<string>();

  constructor(state: CoreState) {
    this.#s = state;
  }

  /**
   * A service host (the GPU host, `@gpu`, or the tool host, `@tools`) died: journaled like an
   * agent's death from outside, decided at the tick boundary.
   */
  serviceExited(service: ServiceHost, reason: string): void {
    if (this.#s.stop) return;
    if (this.#deathReplayed.delete(service)) return;
    this.#s.bridge.hostExited(service, this.#s.scheduler.tick, {
      inFlight: this.#s.inflight.size > 0,
      causedByUs: false,
    });
    this.#exits.push({ agent: service, exit: 'crash', reason });
  }

  /**
   * Replays a recorded death of a service host: its exit is decided now, where the recording
   * decided it; a live one (a resumed run) is killed too, and its real exit is then not decided
   * again.
   */
  replayServiceDeath(service: ServiceHost): void {
    this.#s.bridge.hostExited(service, this.#s.scheduler.tick, { inFlight: false, causedByUs: true });
    const host = service === GPU_HOST ? this.#s.gpu : this.#s.tools;
    if (host.kill()) this.#deathReplayed.add(service);
    const name = service === GPU_HOST ? 'GPU host' : 'tool host';
    this.#exits.push({ agent: service, exit: 'crash', reason: `${name} killed (replayed from the journal)` });
  }

  crash(slot: AgentSlot, reason: string, index?: number): void {
    const stalled = slot.stalled;
    slot.stalled = false;
    if (this.#s.inflight.delete(slot.name)) {
      const scheduler = this.#s.scheduler;
      this.#s.deadLetter(
        stalled ? scheduler.stalled(slot.name, reason) : scheduler.fail(slot.name, index, reason),
      );
    }
    slot.send({ type: 'CRASHED', reason });
    const { tick } = this.#s.scheduler;
    this.#s.bridge.crashed(tick, slot.name, reason);
    this.#s.emit({ type: 'agent.crashed', agent: slot.name, reason, tick, restarts: slot.restarts });
    this.#exits.push({ agent: slot.name, exit: 'crash', reason });
  }

  /**
   * The agent's host ended for another's fault (a shared thread ended by Troupe's own failure):
   * it starts again at the next tick from its snapshot or init, its batch goes back whole, and its
   * supervisor counts no restart.
   */
  relaunch(slot: AgentSlot, reason: string): AgentSlot[] {
    if (this.#s.inflight.delete(slot.name))
      this.#s.deadLetter(this.#s.scheduler.fail(slot.name, undefined, reason));
    const { tick } = this.#s.scheduler;
    this.#s.emit({ type: 'system.warning', text: `"${slot.name}" starts again, charged nothing: ${reason}` });
    if (slot.state === 'running') slot.send({ type: 'RELAUNCH' });
    return this.#restart(slot, tick + 1);
  }

  /** The agent finished normally: its exit is decided at the tick boundary, with the others. */
  finished(slot: AgentSlot): void {
    this.#exits.push({ agent: slot.name, exit: 'normal', reason: 'finished normally' });
  }

  /**
   * Hands the exits of the last tick to the supervision tree, in rank order, and yields its
   * decisions one by one: each is applied (`apply`) before the next exit is decided, since a
   * decision reads which agents are still alive.
   */
  *exitDecisions(): Generator<Decision> {
    if (this.#exits.length === 0) return;
    const exits = this.#exits.sort((a, b) => (a.agent < b.agent ? -1 : 1));
    this.#exits = [];
    const { tick } = this.#s.scheduler;
    const recordedEscalations = this.#s.bridge.recordedEscalations(tick);
    for (const exit of exits) {
      const context = {
        now: this.#s.now,
        tick,
        seed: this.#s.spec.seed,
        alive: (agent: string) => !this.#s.scheduler.isClosed(agent),
        ...(recordedEscalations ? { recordedEscalations } : {}),
      };
      const result = decideExit(this.#s.tree, this.#history, exit, context);
      for (const escalation of result.escalated) this.#s.bridge.escalated(tick, escalation);
      this.#history = result.history;
      yield* result.decisions;
    }
  }

  apply(decision: Decision): Applied {
    this.#s.emit({
      type: 'supervisor.decided',
      decision: decision.type,
      agents: decision.type === 'shutdown' ? [] : decision.agents,
      reason:
        decision.type === 'restart'
          ? `restarted by "${decision.supervisor}", rejoining at tick ${decision.rejoinTick}`
          : decision.reason,
      tick: this.#s.scheduler.tick,
    });
    if (decision.type === 'shutdown') return { start: [], stop: decision.reason };
    const start: AgentSlot[] = [];
    if (decision.type === 'retire') {
      // Service hosts are retired only with the whole tree: the shutdown stops them after the agents.
      for (const agent of decision.agents)
        if (!isService(agent)) this.retire(this.#s.slots.get(agent) as AgentSlot, decision);
    } else {
      for (const agent of decision.agents) {
        if (agent === GPU_HOST) this.#s.gpu.restart();
        else if (agent === TOOL_HOST) this.#s.tools.restart();
        else start.push(...this.#restart(this.#s.slots.get(agent) as AgentSlot, decision.rejoinTick));
      }
    }
    return { start };
  }

  /** Its restart: now (the agent is returned, to be started) or after a backoff. */
  #restart(slot: AgentSlot, rejoinTick: number): AgentSlot[] {
    slot.rejoinTick = rejoinTick;
    slot.initOutputs = undefined;
    this.#s.scheduler.reopen(slot.name);
    if (rejoinTick > this.#s.scheduler.tick + 1) {
      slot.send({ type: 'BACKOFF' });
      return [];
    }
    return [this.reload(slot)];
  }

  /** A fresh instance of the agent is due (its restart): returned, to be started. */
  reload(slot: AgentSlot): AgentSlot {
    slot.generation++;
    slot.send({ type: 'RESTART' });
    return slot;
  }

  retire(slot: AgentSlot, how: { failed: boolean; reason: string }): void {
    if (how.failed) slot.send({ type: 'GIVE_UP', reason: how.reason });
    // Waiting to restart (backoff) or just crashed, it is stopped too: else its restart would
    // still come, and run it with its mailbox closed.
    else if (['running', 'backoff', 'crashed'].includes(slot.state) || slot.joining)
      slot.send({ type: 'STOP' });
    const why = how.failed ? `failed: ${how.reason}` : how.reason;
    // What its init sent waits for the tick it would have joined at: it never joins, so it is
    // dropped, whether its init ran before the retirement or not (a replay decides it at another
    // moment of the start).
    slot.initOutputs = undefined;
    this.#s.deadLetter(this.#s.scheduler.close(slot.name, why));
    if (slot.host !== undefined)
      this.#s.effects.push({
        type: 'send',
        host: slot.host,
        bytes: encodeCommand({ agent: slot.name, stop: { reason: why } }),
      });
    else if (slot.state === 'stopping') slot.send({ type: 'STOPPED' });
  }

  /**
   * The agent's first start failed (its start function or init trapped or ran out of fuel, or it
   * passed its start timeout). As in OTP, a child that cannot start fails its supervisor's start,
   * and so the system's: it stops, with the agent and the reason (returned).
   */
  startFailed(slot: AgentSlot, reason: string): string {
    this.retire(slot, { failed: true, reason });
    this.#s.emit({
      type: 'agent.crashed',
      agent: slot.name,
      reason,
      tick: this.#s.scheduler.tick,
      restarts: 0,
    });
    return `start failed: agent "${slot.name}" could not start: ${reason}`;
  }

  /** A module that can never load (refused by the ABI check or the meter): no restart can help. */
  giveUp(slot: AgentSlot, reason: string): void {
    if (slot.delivered === 0 && slot.restarts === 0) this.#s.neverStarted.set(slot.name, reason);
    this.retire(slot, { failed: true, reason });
  }
}
