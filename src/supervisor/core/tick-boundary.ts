// The tick boundary: the one place where what the core's parts return is put together. At each
// boundary the exits are decided, the restarts due begin, the replay does what its recording did
// there, and the next tick is planned; no part calls another (runtime-core.ts wires them).
import type { Output } from '../../protocol/index.js';
import type { KillOutcome, RecordedKill } from '../replay/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { CoreState } from './core-state.js';
import type { Hosting } from './hosting.js';
import type { Shutdown } from './shutdown.js';
import { isService, type Supervising } from './supervising.js';
import { GPU_HOST, TOOL_HOST } from './supervision.js';
import type { Planned, TickLoop } from './tick-loop.js';

export class TickBoundary {
  readonly #s: CoreState;
  readonly #hosting: Hosting;
  readonly #supervising: Supervising;
  readonly #loop: TickLoop;
  readonly #shutdown: Shutdown;

  constructor(
    state: CoreState,
    parts: { hosting: Hosting; supervising: Supervising; loop: TickLoop; shutdown: Shutdown },
  ) {
    this.#s = state;
    this.#hosting = parts.hosting;
    this.#supervising = parts.supervising;
    this.#loop = parts.loop;
    this.#shutdown = parts.shutdown;
  }

  /**
   * At a tick boundary (no batch in flight, no replayed exit awaited): the exits are decided, the
   * restarts due begin, the replay does what its recording did here, and the next tick is planned.
   */
  pump(): void {
    const s = this.#s;
    if (s.finished || s.inflight.size > 0 || s.bridge.awaitingExits) return;
    const stateDivergence = s.bridge.tickOver();
    if (stateDivergence) this.requestStop(stateDivergence, false);
    const next = s.scheduler.tick + 1;
    // Replay: kills recorded between ticks happen (and their exits are awaited) before the next.
    const kill = (recorded: RecordedKill) => this.#killRecorded(recorded);
    const stage = (from: string, output: Output) => {
      s.inference.replayed(from, output);
      s.scheduler.enter(from, output);
    };
    for (;;) {
      if (!this.#decideExits()) return;
      // As soon as the boundary is reached (the first pump after a tick's last report), so a death
      // between ticks always comes after it, live or replayed.
      for (const slot of this.#loop.dueToRejoin(next)) this.startHost(this.#supervising.reload(slot));
      const replay = s.bridge.beforePlan(s.scheduler.tick, next, kill, stage);
      if (replay === 'wait') return;
      // A replayed death of the GPU host is decided where it was recorded: before the next kill.
      if (replay === 'decide') continue;
      // A start failure held while the recording's kills were under way is taken now they are done.
      const failed = this.#hosting.heldStartFailure();
      if (failed) {
        this.requestStop(this.#supervising.startFailed(failed.slot, failed.reason), false);
        return;
      }
      // A release the recording made before its next input or kill here is made first.
      const planned = this.#loop.plan(next, replay === 'release');
      if (planned.type !== 'released') {
        this.#planned(planned);
        return;
      }
    }
  }

  /** Decides the exits waiting for this boundary; false (and the shutdown begun) once stopping. */
  #decideExits(): boolean {
    if (!this.#s.stop) {
      for (const decision of this.#supervising.exitDecisions()) {
        const { start, stop } = this.#supervising.apply(decision);
        for (const slot of start) this.startHost(slot);
        if (stop) this.requestStop(stop, false);
      }
    }
    if (!this.#s.stop) return true;
    this.#shutdown.shutdown();
    return false;
  }

  /** What planning the next tick came to. */
  #planned(planned: Planned): void {
    switch (planned.type) {
      case 'dispatched': {
        const { plan, sent } = planned;
        // A service host died during this tick when recorded (maybe more than once: it is
        // restarted at once): each exit is decided with the tick's.
        for (const service of [GPU_HOST, TOOL_HOST] as const)
          for (let n = this.#s.bridge.deathsInFlight(plan.tick, service); n > 0; n--)
            this.#supervising.replayServiceDeath(service);
        const divergence = this.#loop.dispatched(plan, sent);
        if (divergence) this.requestStop(divergence, false);
        this.#loop.reportTick(plan);
        return;
      }
      case 'skipped':
        this.pump();
        return;
      case 'stop':
        this.requestStop(planned.reason, planned.ok);
        return;
      default:
        return;
    }
  }

  /**
   * A kill the recording holds between ticks: its host is killed (its exit awaited), or it comes
   * (a start still queued at the gate, a restart due at this boundary: waited for), or it is gone.
   */
  #killRecorded({ agent, reason }: RecordedKill): KillOutcome {
    if (isService(agent)) {
      this.#supervising.replayServiceDeath(agent);
      return 'died';
    }
    const slot = this.#s.slots.get(agent);
    if (slot?.host !== undefined) {
      this.#s.endHost(slot, reason);
      return 'killed';
    }
    // A restart due at this boundary has begun already (its rejoin runs first): it is joining.
    return slot?.joining ? 'wait' : 'gone';
  }

  /** A fresh instance of the agent starts: in its host if it is alive, else in a new one. */
  startHost(slot: AgentSlot): void {
    if (slot.host !== undefined) this.#hosting.load(slot);
    else this.#hosting.spawn(slot);
  }

  /** Ends the run after the tick in flight, stopping agents in reverse start order. */
  requestStop(reason: string, ok: boolean): void {
    if (this.#s.stop) return;
    this.#s.stop = { reason, ok };
    this.#s.emit({ type: 'system.stopping', reason });
    this.pump();
  }
}
