// The lockstep tick loop: at each boundary, decide the exits, replay what the journal recorded,
// hold for agents (re)joining, then plan the next tick and hand its batches out.
import { encodeDeliverFrame, type Output } from '../../protocol/index.js';
import { deliveryHash, type KillOutcome } from '../replay/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { CoreParts, CoreState } from './core-state.js';
import { undeliveredReport } from './run-report.js';
import type { TickPlan } from './scheduler.js';
import { GPU_HOST } from './supervision.js';

export class TickLoop {
  readonly #s: CoreState;
  readonly #p: CoreParts;

  constructor(state: CoreState, parts: CoreParts) {
    this.#s = state;
    this.#p = parts;
  }

  /** Ends the run after the tick in flight, stopping agents in reverse start order. */
  requestStop(reason: string, ok: boolean): void {
    if (this.#s.stop) return;
    this.#s.stop = { reason, ok };
    this.#s.emit({ type: 'system.stopping', reason });
    this.pump();
  }

  /** Decides the exits waiting for this boundary; false (and the shutdown begun) once stopping. */
  #decideExits(): boolean {
    if (!this.#s.stop && this.#s.exits.length > 0) this.#p.superviseExits();
    if (!this.#s.stop) return true;
    this.#p.shutdown();
    return false;
  }

  pump(): void {
    if (this.#s.finished || this.#s.inflight.size > 0) return;
    const stateDivergence = this.#s.bridge.tickOver();
    if (stateDivergence) this.requestStop(stateDivergence, false);
    if (!this.#decideExits()) return;
    const next = this.#s.scheduler.tick + 1;
    // Replay: kills recorded between ticks happen (and their exits are awaited) before the next.
    const kill = (agent: string) => this.#killRecorded(agent, next);
    const stage = (from: string, output: Output) => {
      this.#s.inference.replayed(from, output);
      this.#s.scheduler.stage(from, [output]);
    };
    if (!this.#s.bridge.beforePlan(this.#s.scheduler.tick, next, kill, stage)) return;
    // A replayed death of the GPU host is decided at this boundary, as it was when recorded.
    if (!this.#decideExits()) return;
    if (!this.#s.inference.beforeTick(next)) return;
    if (!this.#joined(next)) return;
    if (this.#s.paused) {
      if (this.#s.steps === 0) return;
      this.#s.steps--;
    }
    const { maxTicks } = this.#s.options;
    if (maxTicks !== undefined && this.#s.scheduler.tick >= maxTicks) {
      this.requestStop(`reached --max-ticks ${maxTicks}`, true);
      return;
    }
    this.#s.bridge.syncTick();
    if (this.#s.bridge.goesLive(next)) this.#s.emit({ type: 'run.live', tick: next });
    const eligible = (agent: string) => (this.#s.slots.get(agent) as AgentSlot).eligible(next);
    let plan = this.#s.scheduler.plan(eligible);
    this.undelivered(plan);
    this.#s.inference.route(plan.tick, plan.requests);
    // A release can stage notices (rejections) of its own; they go out before the system may idle.
    if (plan.batches.length === 0 && this.#s.scheduler.staged) {
      plan = this.#s.scheduler.plan(eligible);
      this.undelivered(plan);
      this.#s.inference.route(plan.tick, plan.requests);
    }
    if (plan.batches.length === 0) {
      this.noBatches(plan.tick, next);
      return;
    }
    this.#s.idle = false;
    this.dispatch(plan);
  }

  /**
   * A kill the recording holds between ticks: its host is killed (its exit awaited), or it comes
   * (a start still queued at the gate, a restart due at this boundary: waited for), or it is gone.
   */
  #killRecorded(agent: string, next: number): KillOutcome {
    if (agent === GPU_HOST) {
      this.#p.replayGpuDeath();
      return 'gone';
    }
    const slot = this.#s.slots.get(agent);
    if (slot?.host !== undefined) {
      this.#s.effects.push({ type: 'kill', host: slot.host });
      return 'killed';
    }
    const coming = slot && (slot.joining || (slot.state === 'backoff' && slot.rejoinTick <= next));
    if (coming && slot.state === 'backoff') this.#p.reload(slot);
    return coming ? 'wait' : 'gone';
  }

  /**
   * Restarts due at tick `next` begin; false while an agent due then is still starting (it holds
   * the tick it rejoins at, however long its start takes). Once all are ready, what their init
   * sent is staged, at the boundary itself: an agent killed while others still start loses its
   * init's sends whether the kill fell before or after its init ran, so a replay (which kills at
   * the boundary) stages the same (issue 25).
   */
  #joined(next: number): boolean {
    const due = [...this.#s.backingOff].filter((slot) => slot.rejoinTick <= next);
    for (const slot of due.sort((a, b) => a.rank - b.rank)) this.#p.reload(slot);
    for (const slot of this.#s.joining) if (slot.rejoinTick <= next) return false;
    for (const slot of this.#s.slots.values()) {
      if (slot.initOutputs && slot.rejoinTick <= next) {
        this.#s.scheduler.stage(slot.name, slot.initOutputs);
        slot.initOutputs = undefined;
      }
    }
    return true;
  }

  /** A boundary with nothing to hand out: skip to a waiting restart or timer, wait for a model, or idle. */
  noBatches(tick: number, next: number): void {
    let rejoin = this.#s.scheduler.nextTimer ?? Number.POSITIVE_INFINITY;
    for (const slot of this.#s.slots.values()) {
      if (slot.rejoinTick > next && !this.#s.scheduler.isClosed(slot.name))
        rejoin = Math.min(rejoin, slot.rejoinTick);
    }
    // Nothing to run now, but a restarted agent or a timer waits for a later tick: go straight there.
    if (rejoin !== Number.POSITIVE_INFINITY) {
      this.#s.scheduler.skipTo(rejoin - 1);
      this.pump();
      return;
    }
    // A model still owes answers: they will wake the loop.
    if (this.#s.inference.owesAnswers) return;
    const divergence = this.#s.bridge.idleDivergence(tick);
    if (divergence) {
      this.requestStop(divergence, false);
      return;
    }
    if (!this.#s.idle) this.#s.emit({ type: 'system.idle', tick });
    this.#s.idle = true;
    if (this.#s.options.untilIdle) this.requestStop('idle: no agent has mail', true);
  }

  /** Hands each batch of the planned tick to its host, and records or checks the tick. */
  dispatch(plan: TickPlan): void {
    const sent: Array<{ agent: string; hash: Uint8Array }> = [];
    const checkpoint = this.#s.bridge.checkpointAt(plan.tick);
    for (const batch of plan.batches) this.#s.inflight.add(batch.agent);
    for (const batch of plan.batches) {
      const slot = this.#s.slots.get(batch.agent) as AgentSlot;
      slot.logLines = 0;
      const nextSeq = this.#s.scheduler.nextSeq(batch.agent);
      const deliver = { tick: plan.tick, envelopes: batch.envelopes, nextSeq };
      const bytes = encodeDeliverFrame(batch.agent, deliver);
      // The trace covers deliveries only: the checkpoint request goes in a second encoding.
      const wire = checkpoint ? encodeDeliverFrame(batch.agent, { ...deliver, stateHash: true }) : bytes;
      // One hash per delivery: the journal records it per agent, and the trace chains them.
      const hash = deliveryHash(bytes);
      this.#s.trace.update(hash);
      this.#s.effects.push({
        type: 'batch',
        tick: plan.tick,
        agent: batch.agent,
        envelopes: batch.envelopes,
      });
      sent.push({ agent: batch.agent, hash });
      this.#s.delivered += batch.envelopes.length;
      slot.delivered += batch.envelopes.length;
      // Replaying a kill that hit this agent while it held this batch: the host dies instead.
      if (this.#s.bridge.killedInFlight(plan.tick, batch.agent)) {
        // It died of this batch when recorded: the batch is charged again (see Hosting.onExit).
        if (this.#s.bridge.culpritInFlight(plan.tick, batch.agent)) slot.stalled = true;
        if (slot.host !== undefined) this.#s.effects.push({ type: 'kill', host: slot.host });
      } else {
        const ms = slot.spec.limits.watchdogMs;
        this.#s.send(slot, wire, `to the batch of tick ${plan.tick} within ${ms} ms (limits.watchdogMs)`, ms);
      }
    }
    // The GPU host died during this tick when recorded: its exit is decided with the tick's.
    if (this.#s.bridge.killedInFlight(plan.tick, GPU_HOST)) this.#p.replayGpuDeath();
    const divergence = this.#s.bridge.dispatched(plan.tick, sent);
    if (divergence) this.requestStop(divergence, false);
    const agents = plan.batches.map((batch) => batch.agent);
    const envelopes = plan.batches.reduce((sum, batch) => sum + batch.envelopes.length, 0);
    this.#s.emit({ type: 'tick', tick: plan.tick, agents, envelopes });
  }

  undelivered(plan: TickPlan): void {
    this.#s.deadLetter(plan.deadLetters);
    for (const letter of plan.rejected)
      this.#s.emit({ type: 'message.rejected', ...undeliveredReport(letter) });
  }
}
