// The lockstep tick's own decisions: pause and step, whether the next tick can begin (answers
// owed, agents joining), planning it and handing its batches out, and what a boundary with nothing
// to hand out comes to. The order of a boundary (exits, replay, rejoins, plan) is the tick
// boundary's (tick-boundary.ts): what this part decides it returns.
import { encodeDeliverFrame } from '../../protocol/index.js';
import { deliveryHash } from '../replay/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { CoreState } from './core-state.js';
import { undeliveredReport } from './run-report.js';
import type { TickPlan } from './scheduler.js';

/** What one delivery of a tick was, for the journal and the trace. */
export type Sent = Array<{ agent: string; hash: Uint8Array }>;

/** What planning a tick came to. */
export type Planned =
  /** Something it waits for is not there yet (answers, agents joining, a step while paused). */
  | { type: 'waiting' }
  /** Its batches were handed out. */
  | { type: 'dispatched'; plan: TickPlan; sent: Sent }
  /** What waited was released with no tick begun; the replay, releasing as recorded, goes on. */
  | { type: 'released' }
  /** Nothing to run now, but a restart or timer waits for a later tick: skipped there. */
  | { type: 'skipped' }
  /** The system is idle (or waits for a model's answers). */
  | { type: 'idle' }
  /** The run must end (a tick bound, an idle run that should end, a replay's divergence). */
  | { type: 'stop'; reason: string; ok: boolean };

export class TickLoop {
  readonly #s: CoreState;
  /** Paused: no tick starts; `#steps` ticks may still run (step one tick at a time). */
  #paused = false;
  #steps = 0;
  /** The last boundary had nothing to hand out and nothing to wait for (reported once). */
  #idle = false;

  constructor(state: CoreState) {
    this.#s = state;
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

  /**
   * Plans tick `next` once everything it waits for is there: hands its batches out, or releases
   * what waits for a boundary with nothing to hand out (then the system may idle; a replay
   * `releasing` as its recording did goes on instead).
   */
  plan(next: number, releasing: boolean): Planned {
    if (!this.#s.inference.beforeTick(next)) return { type: 'waiting' };
    if (!this.#joined(next)) return { type: 'waiting' };
    if (this.#paused) {
      if (this.#steps === 0) return { type: 'waiting' };
      this.#steps--;
    }
    const { maxTicks } = this.#s.options;
    if (maxTicks !== undefined && this.#s.scheduler.tick >= maxTicks)
      return { type: 'stop', reason: `reached --max-ticks ${maxTicks}`, ok: true };
    this.#stageInits(next);
    this.#s.bridge.syncTick();
    if (this.#s.bridge.goesLive(next)) this.#s.emit({ type: 'run.live', tick: next });
    const eligible = (agent: string) => (this.#s.slots.get(agent) as AgentSlot).eligible(next);
    const waiting = this.#s.scheduler.waiting(next);
    let plan = this.#s.scheduler.plan(eligible);
    this.undelivered(plan);
    this.#route(plan);
    // A release can stage notices (rejections) of its own; they go out before the system may idle.
    if (plan.batches.length === 0 && this.#s.scheduler.staged) {
      plan = this.#s.scheduler.plan(eligible);
      this.undelivered(plan);
      this.#route(plan);
    }
    if (plan.batches.length > 0) {
      this.#idle = false;
      return { type: 'dispatched', plan, sent: this.#dispatch(plan) };
    }
    // Released with no tick begun: inputs and kills that come now are journaled after it (a
    // release of nothing changes nothing, and is not counted; one the replay makes because its
    // recording did always is, so the replay goes on whatever it released).
    if (waiting || releasing) this.#s.bridge.released(plan.tick);
    if (releasing) return { type: 'released' };
    return this.#noBatches(plan.tick, next);
  }

  /** Agents in backoff whose restart is due at tick `next`, in rank order. */
  dueToRejoin(next: number): AgentSlot[] {
    const due = [...this.#s.backingOff].filter((slot) => slot.rejoinTick <= next);
    return due.sort((a, b) => a.rank - b.rank);
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
  #noBatches(tick: number, next: number): Planned {
    let rejoin = this.#s.scheduler.nextTimer ?? Number.POSITIVE_INFINITY;
    for (const slot of this.#s.slots.values()) {
      if (slot.rejoinTick > next && !this.#s.scheduler.isClosed(slot.name))
        rejoin = Math.min(rejoin, slot.rejoinTick);
    }
    // Nothing to run now, but a restarted agent or a timer waits for a later tick: go straight there.
    if (rejoin !== Number.POSITIVE_INFINITY) {
      this.#s.scheduler.skipTo(rejoin - 1);
      return { type: 'skipped' };
    }
    // A model still owes answers: they will wake the loop.
    if (this.#s.inference.owesAnswers) return { type: 'idle' };
    const divergence = this.#s.bridge.idleDivergence(tick);
    if (divergence) return { type: 'stop', reason: divergence, ok: false };
    if (!this.#idle) this.#s.emit({ type: 'system.idle', tick });
    this.#idle = true;
    if (this.#s.options.untilIdle) return { type: 'stop', reason: 'idle: no agent has mail', ok: true };
    return { type: 'idle' };
  }

  /** Hands each batch of the planned tick to its host (a replay kills those it recorded dying of it). */
  /** Sends the plan's requests to the models and tools, and shows them to inspection hooks. */
  #route(plan: TickPlan): void {
    this.#s.inference.route(plan.tick, plan.requests);
    if (plan.requests.length > 0)
      this.#s.effects.push({ type: 'requests', tick: plan.tick, requests: plan.requests });
  }

  #dispatch(plan: TickPlan): Sent {
    const sent: Sent = [];
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
    return sent;
  }

  /** The tick's batches are out: replayed deaths during it happen, and the tick is recorded or checked (a divergence is returned). */
  dispatched(plan: TickPlan, sent: Sent): string | undefined {
    this.#killDuring(plan.tick);
    return this.#s.bridge.dispatched(plan.tick, sent);
  }

  /** The tick's event, once it is under way. */
  reportTick(plan: TickPlan): void {
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

  /** Dead letters and refusals of a plan are reported. */
  undelivered(plan: TickPlan): void {
    this.#s.deadLetter(plan.deadLetters);
    for (const letter of plan.rejected)
      this.#s.emit({ type: 'message.rejected', ...undeliveredReport(letter) });
  }
}
