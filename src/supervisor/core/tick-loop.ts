// The lockstep tick loop: at each boundary, decide the exits, replay what the journal recorded,
// hold for agents (re)joining, then plan the next tick and hand its batches out.
import { encodeDeliverFrame, type Output } from '../../protocol/index.js';
import { deliveryHash, type KillOutcome, type RecordedKill } from '../replay/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { CoreParts, CoreState } from './core-state.js';
import { undeliveredReport } from './run-report.js';
import type { TickPlan } from './scheduler.js';
import { GPU_HOST } from './supervision.js';

export class TickLoop {
  readonly #s: CoreState;
  readonly #p: CoreParts;
  /** Paused: no tick starts; `#steps` ticks may still run (step one tick at a time). */
  #paused = false;
  #steps = 0;
  /** The last boundary had nothing to hand out and nothing to wait for (reported once). */
  #idle = false;

  constructor(state: CoreState, parts: CoreParts) {
    this.#s = state;
    this.#p = parts;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** No tick starts until resumed (or stepped); the tick in flight finishes. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#steps = 0;
    this.#s.emit({ type: 'system.paused', tick: this.#s.scheduler.tick });
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#s.emit({ type: 'system.resumed', tick: this.#s.scheduler.tick });
  }

  /** Paused: one more tick may run. */
  step(): void {
    if (this.#paused) this.#steps++;
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
    if (!this.#s.stop) this.#p.superviseExits();
    if (!this.#s.stop) return true;
    this.#p.shutdown();
    return false;
  }

  pump(): void {
    // Replay: the exits of hosts it killed are decided with the rest, once they have come.
    if (this.#s.finished || this.#s.inflight.size > 0 || this.#s.bridge.awaitingExits) return;
    const stateDivergence = this.#s.bridge.tickOver();
    if (stateDivergence) this.requestStop(stateDivergence, false);
    const next = this.#s.scheduler.tick + 1;
    // Replay: kills recorded between ticks happen (and their exits are awaited) before the next.
    const kill = (recorded: RecordedKill) => this.#killRecorded(recorded);
    const stage = (from: string, output: Output) => {
      this.#s.inference.replayed(from, output);
      this.#s.scheduler.enter(from, output);
    };
    for (;;) {
      if (!this.#decideExits()) return;
      // As soon as the boundary is reached (the first pump after a tick's last report), so a death
      // between ticks always comes after it, live or replayed.
      this.#rejoin(next);
      const replay = this.#s.bridge.beforePlan(this.#s.scheduler.tick, next, kill, stage);
      if (replay === 'wait') return;
      // A replayed death of the GPU host is decided where it was recorded: before the next kill.
      if (replay === 'decide') continue;
      // A release the recording made before its next input or kill here is made first.
      if (this.#plan(next, replay === 'release') !== 'released') return;
    }
  }

  /**
   * Plans tick `next` once everything it waits for is there: hands its batches out, or releases
   * what waits for a boundary with nothing to hand out (then the system may idle; a replay
   * `releasing` as its recording did goes on instead).
   */
  #plan(next: number, releasing: boolean): 'waiting' | 'stopped' | 'dispatched' | 'released' | 'idle' {
    if (!this.#s.inference.beforeTick(next)) return 'waiting';
    if (!this.#joined(next)) return 'waiting';
    if (this.#paused) {
      if (this.#steps === 0) return 'waiting';
      this.#steps--;
    }
    const { maxTicks } = this.#s.options;
    if (maxTicks !== undefined && this.#s.scheduler.tick >= maxTicks) {
      this.requestStop(`reached --max-ticks ${maxTicks}`, true);
      return 'stopped';
    }
    this.#stageInits(next);
    this.#s.bridge.syncTick();
    if (this.#s.bridge.goesLive(next)) this.#s.emit({ type: 'run.live', tick: next });
    const eligible = (agent: string) => (this.#s.slots.get(agent) as AgentSlot).eligible(next);
    const waiting = this.#s.scheduler.waiting(next);
    let plan = this.#s.scheduler.plan(eligible);
    this.undelivered(plan);
    this.#s.inference.route(plan.tick, plan.requests);
    // A release can stage notices (rejections) of its own; they go out before the system may idle.
    if (plan.batches.length === 0 && this.#s.scheduler.staged) {
      plan = this.#s.scheduler.plan(eligible);
      this.undelivered(plan);
      this.#s.inference.route(plan.tick, plan.requests);
    }
    if (plan.batches.length > 0) {
      this.#idle = false;
      this.dispatch(plan);
      return 'dispatched';
    }
    // Released with no tick begun: inputs and kills that come now are journaled after it (a
    // release of nothing changes nothing, and is not counted; one the replay makes because its
    // recording did always is, so the replay goes on whatever it released).
    if (waiting || releasing) this.#s.bridge.released(plan.tick);
    if (releasing) return 'released';
    this.noBatches(plan.tick, next);
    return 'idle';
  }

  /**
   * A kill the recording holds between ticks: its host is killed (its exit awaited), or it comes
   * (a start still queued at the gate, a restart due at this boundary: waited for), or it is gone.
   */
  #killRecorded({ agent, reason }: RecordedKill): KillOutcome {
    if (agent === GPU_HOST) {
      this.#p.replayGpuDeath();
      return 'died';
    }
    const slot = this.#s.slots.get(agent);
    if (slot?.host !== undefined) {
      this.#s.endHost(slot, reason);
      return 'killed';
    }
    // A restart due at this boundary has begun already (#rejoin runs first): it is joining.
    return slot?.joining ? 'wait' : 'gone';
  }

  /** Restarts due at tick `next` begin. */
  #rejoin(next: number): void {
    const due = [...this.#s.backingOff].filter((slot) => slot.rejoinTick <= next);
    for (const slot of due.sort((a, b) => a.rank - b.rank)) this.#p.reload(slot);
  }

  /** False while an agent due at tick `next` is still starting (it holds the tick it rejoins at). */
  #joined(next: number): boolean {
    for (const slot of this.#s.joining) if (slot.rejoinTick <= next) return false;
    return true;
  }

  /**
   * What the agents joining at tick `next` sent from init is staged as the tick begins, not
   * before: an agent killed at the boundary (while others still start, or while the system is
   * paused there) loses its init's sends whether the kill fell before or after its init ran, so a
   * replay (which kills at the boundary) stages the same (issue 25, issue 27).
   */
  #stageInits(next: number): void {
    for (const slot of this.#s.slots.values()) {
      if (slot.initOutputs && slot.rejoinTick <= next) {
        this.#s.scheduler.stage(slot.name, slot.initOutputs);
        slot.initOutputs = undefined;
      }
    }
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
    if (!this.#idle) this.#s.emit({ type: 'system.idle', tick });
    this.#idle = true;
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
      const killed = this.#s.bridge.killedInFlight(plan.tick, batch.agent);
      if (killed) {
        // It died of this batch when recorded: the batch is charged again (see Hosting.onExit).
        if (killed.culprit) slot.stalled = true;
        this.#s.endHost(slot, killed.reason);
      } else {
        const ms = slot.spec.limits.watchdogMs;
        this.#s.send(slot, wire, `to the batch of tick ${plan.tick} within ${ms} ms (limits.watchdogMs)`, ms);
      }
    }
    // The GPU host died during this tick when recorded (maybe more than once: it is restarted at
    // once): each exit is decided with the tick's.
    for (let n = this.#s.bridge.deathsInFlight(plan.tick, GPU_HOST); n > 0; n--) this.#p.replayGpuDeath();
    this.#killDuring(plan.tick);
    const divergence = this.#s.bridge.dispatched(plan.tick, sent);
    if (divergence) this.requestStop(divergence, false);
    const agents = plan.batches.map((batch) => batch.agent);
    const envelopes = plan.batches.reduce((sum, batch) => sum + batch.envelopes.length, 0);
    this.#s.emit({ type: 'tick', tick: plan.tick, agents, envelopes });
  }

  /**
   * Replay: agents whose host died while this tick ran though they held no batch of it die now,
   * or once they hand their batch back (Hosting), so their exits are decided with the tick's.
   */
  #killDuring(tick: number): void {
    const holding = (agent: string) => this.#s.inflight.has(agent);
    for (const kill of this.#s.bridge.killsDuring(tick, holding)) {
      const slot = this.#s.slots.get(kill.agent);
      // Its start still waits at the start gate (it had begun when recorded): it dies once it
      // has a host (Hosting.fork), and the tick's exits wait for it.
      if (slot?.host === undefined && slot?.joining) {
        this.#s.bridge.killWhenHosted(kill);
        continue;
      }
      if (slot?.host === undefined) {
        this.#s.bridge.killLater(tick, kill);
        continue;
      }
      this.#s.bridge.replayKilling(kill);
      this.#s.endHost(slot, kill.reason);
    }
  }

  undelivered(plan: TickPlan): void {
    this.#s.deadLetter(plan.deadLetters);
    for (const letter of plan.rejected)
      this.#s.emit({ type: 'message.rejected', ...undeliveredReport(letter) });
  }
}
