// The supervisor's decisions, without IO: typed inputs in (core-io.ts), effects out. It runs the
// lockstep ticks, supervises agents and the GPU host, and applies OTP decisions; the executor
// (runtime.ts) starts hosts, moves bytes and keeps time. Same inputs, same effects. Its parts share
// one CoreState: Hosting (agent hosts and frames), GpuHosting (the GPU host, its requests in flight
// and models), Supervising (OTP decisions), TickLoop (planning ticks), Shutdown. No part calls
// another: each returns what happened, and the control flow between them is here (the tick
// boundary: #pump).
import type { ExitInfo } from '../../launch/index.js';
import type { Envelope, Output } from '../../protocol/index.js';
import type { SystemSpec } from '../config/index.js';
import type { KillOutcome, RecordedKill } from '../replay/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { ControlCommand, CoreInput, Effect, HostRef, Prepared } from './core-io.js';
import { type CoreOptions, CoreState } from './core-state.js';
import type { AgentStatus, ModelStatus } from './events.js';
import type { GpuLatencies, GpuState } from './gpu-hosting.js';
import { Hosting, type HostOutcome } from './hosting.js';
import { type DeadLetter, EXTERNAL } from './scheduler.js';
import { Shutdown } from './shutdown.js';
import { Supervising } from './supervising.js';
import { GPU_HOST } from './supervision.js';
import { type Planned, TickLoop } from './tick-loop.js';

export type { CoreOptions } from './core-state.js';

/** Payload bytes injected messages may hold while they wait for the next tick, all together. */
export const INJECTED_WAITING_BYTES = 64 * 2 ** 20;

export class RuntimeCore {
  readonly #s: CoreState;
  readonly #hosting: Hosting;
  readonly #supervising: Supervising;
  readonly #loop: TickLoop;
  readonly #shutdown: Shutdown;

  constructor(spec: SystemSpec, options: CoreOptions) {
    this.#s = new CoreState(spec, options);
    this.#hosting = new Hosting(this.#s);
    this.#supervising = new Supervising(this.#s);
    this.#loop = new TickLoop(this.#s);
    this.#shutdown = new Shutdown(this.#s);
  }

  /**
   * Takes one input at wall-clock time `now`; returns the effects to perform, in order. After
   * each input the tick loop runs (the one place it is run from): whatever the input changed, the
   * loop decides what follows at the tick boundary.
   */
  handle(input: CoreInput, now: number): Effect[] {
    this.#s.now = now;
    this.#take(input);
    this.#pump();
    const effects = this.#s.effects;
    this.#s.effects = [];
    return effects;
  }

  // ---- the tick boundary: the one place the parts' results are put together ----

  /**
   * At a tick boundary (no batch in flight, no replayed exit awaited): the exits are decided, the
   * restarts due begin, the replay does what its recording did here, and the next tick is planned.
   */
  #pump(): void {
    const s = this.#s;
    if (s.finished || s.inflight.size > 0 || s.bridge.awaitingExits) return;
    const stateDivergence = s.bridge.tickOver();
    if (stateDivergence) this.#requestStop(stateDivergence, false);
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
      for (const slot of this.#loop.dueToRejoin(next)) this.#startHost(this.#supervising.reload(slot));
      const replay = s.bridge.beforePlan(s.scheduler.tick, next, kill, stage);
      if (replay === 'wait') return;
      // A replayed death of the GPU host is decided where it was recorded: before the next kill.
      if (replay === 'decide') continue;
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
        for (const slot of start) this.#startHost(slot);
        if (stop) this.#requestStop(stop, false);
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
        // The GPU host died during this tick when recorded (maybe more than once: it is restarted
        // at once): each exit is decided with the tick's.
        for (let n = this.#s.bridge.deathsInFlight(plan.tick, GPU_HOST); n > 0; n--)
          this.#supervising.replayGpuDeath();
        const divergence = this.#loop.dispatched(plan, sent);
        if (divergence) this.#requestStop(divergence, false);
        this.#loop.reportTick(plan);
        return;
      }
      case 'skipped':
        this.#pump();
        return;
      case 'stop':
        this.#requestStop(planned.reason, planned.ok);
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
    if (agent === GPU_HOST) {
      this.#supervising.replayGpuDeath();
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
  #startHost(slot: AgentSlot): void {
    if (slot.host !== undefined) this.#hosting.load(slot);
    else this.#hosting.spawn(slot);
  }

  /** Ends the run after the tick in flight, stopping agents in reverse start order. */
  #requestStop(reason: string, ok: boolean): void {
    if (this.#s.stop) return;
    this.#s.stop = { reason, ok };
    this.#s.emit({ type: 'system.stopping', reason });
    this.#pump();
  }

  #take(input: CoreInput): void {
    switch (input.type) {
      case 'start':
        this.#start();
        return;
      case 'prepared':
        this.#prepared(input.agent, input.result);
        return;
      case 'boot.failed':
        this.#requestStop(`start failed: ${input.reason}`, false);
        return;
      case 'frame':
        if (this.#s.gpu.owns(input.host)) {
          for (const { request, answer } of this.#s.gpu.onFrame(input.host, input.bytes, this.#s.now))
            this.#s.inference.answer(request, answer);
          return;
        }
        for (const outcome of this.#hosting.onFrame(input.host, input.bytes)) this.#supervise(outcome);
        return;
      case 'oversize':
        if (this.#s.gpu.owns(input.host)) this.#s.gpu.onOversize(input.host, input.bytes, input.limit);
        else
          this.#hosting.hostFault(
            input.host,
            `sent a frame of ${input.bytes} bytes, above its limit of ${input.limit}`,
          );
        return;
      case 'exit':
        if (this.#s.gpu.owns(input.host)) this.#gpuExited(input.host, input.info);
        else this.#supervise(this.#hosting.onExit(input.host, input.info));
        return;
      case 'timer':
        if (!this.#s.gpu.onTimer(input.timer)) this.#hosting.onTimer(input.timer);
        return;
      case 'control':
        this.#control(input.command);
        return;
    }
  }

  /** Why an injection would be refused, before it is buffered; undefined when it would be taken. */
  injectRefusal(to: string, payload: Uint8Array): string | undefined {
    const limit = this.#s.slots.get(to)?.spec.limits.maxMessageBytes;
    if (limit !== undefined && payload.length > limit)
      return `the payload is ${payload.length} bytes, above limits.maxMessageBytes ${limit} of "${to}"`;
    // Injections wait for the next tick (all of them while the system is paused): what they may
    // hold is bounded (issue 26: 300 of 1 MiB took a paused supervisor from 109 to 649 MiB).
    const waiting = this.#s.scheduler.stagedBytes(EXTERNAL);
    if (waiting + payload.length > INJECTED_WAITING_BYTES)
      return `injected messages waiting for the next tick already hold ${waiting} bytes; with these ${payload.length} they would pass the ${INJECTED_WAITING_BYTES / 2 ** 20} MiB that may wait (is the system paused?)`;
    return undefined;
  }

  /** Why a hand restart would be refused; undefined when the agent has a host to restart. */
  restartRefusal(agent: string): string | undefined {
    const slot = this.#s.slots.get(agent);
    if (!slot) return `no agent named "${agent}"`;
    if (slot.host === undefined || slot.state === 'stopped' || slot.state === 'failed') {
      return `"${agent}" is ${slot.state}: it has no process to restart`;
    }
    return undefined;
  }

  /** Whether a dead letter with this id is kept (it can be re-sent). */
  hasDeadLetter(id: string): boolean {
    return this.#s.deadLetters.has(id);
  }

  /** The dead letters kept (the newest, within DEAD_LETTERS_KEPT), oldest first. */
  deadLetters(): DeadLetter[] {
    return this.#s.deadLetters.list();
  }

  mailbox(agent: string): {
    queued: readonly Envelope[];
    inTransit: Array<{ from: string; output: Output }>;
  } {
    return { queued: this.#s.scheduler.mailbox(agent), inTransit: this.#s.scheduler.inTransit(agent) };
  }

  agents(): AgentStatus[] {
    return [...this.#s.slots.values()].map((slot) => ({
      name: slot.name,
      state: slot.state,
      mailbox: this.#s.scheduler.mailboxDepth(slot.name),
      delivered: slot.delivered,
      restarts: slot.restarts,
      ...(slot.lastCrash ? { lastCrash: slot.lastCrash } : {}),
      ...(slot.usage ? { usage: slot.usage } : {}),
    }));
  }

  /** The batch the agent holds now (empty when it holds none). */
  inflight(agent: string): readonly Envelope[] {
    return this.#s.scheduler.inflight(agent);
  }

  /** Every output waiting for the next tick boundary, whatever its address. */
  staging(): Array<{ from: string; output: Output }> {
    return this.#s.scheduler.staging();
  }

  /** What the agent's init sent, held until the tick it (re)joins at. */
  initOutputs(agent: string): readonly Output[] {
    return this.#s.slots.get(agent)?.initOutputs ?? [];
  }

  /** The agent a host belongs to, while it is that agent's host. */
  agentOf(host: HostRef): string | undefined {
    return this.#hosting.agentOf(host);
  }

  /** The GPU host's state, its host and the requests waiting; undefined when the system runs none. */
  gpuStatus(): { state: GpuState; host?: HostRef; pending: number } | undefined {
    const gpu = this.#s.gpu;
    if (!gpu.enabled) return undefined;
    return { state: gpu.state, ...(gpu.host !== undefined ? { host: gpu.host } : {}), pending: gpu.pending };
  }

  /** The declared models: state, provider and counters (empty when no GPU host runs). */
  models(): ModelStatus[] {
    return this.#s.gpu.enabled ? this.#s.gpu.models() : [];
  }

  /** Per model, final answers so far and their summed latency on the core's clock (for charts). */
  gpuLatencies(): GpuLatencies {
    return this.#s.gpu.latencies();
  }

  get paused(): boolean {
    return this.#loop.paused;
  }

  /** The system was asked to stop (or decided to). */
  get stopping(): boolean {
    return this.#s.stop !== undefined;
  }

  get tick(): number {
    return this.#s.scheduler.tick;
  }

  #start(): void {
    const { name, seed, agents } = this.#s.spec;
    const { backend } = this.#s.options;
    this.#s.emit({ type: 'run.start', system: name, agents: agents.map((a) => a.name), seed, backend });
    for (const slot of this.#s.slots.values()) slot.start();
    // Models load while the agents start.
    this.#s.gpu.start();
  }

  /**
   * The GPU host exited: generations it cut short are answered with an error; a death goes to the
   * supervision tree, an end at shutdown lets the run finish.
   */
  #gpuExited(host: HostRef, info: ExitInfo): void {
    const { outcome, interrupted } = this.#s.gpu.onExit(host, info, this.#s.now);
    for (const { request, answer } of interrupted) this.#s.inference.answer(request, answer);
    if (outcome?.type === 'died') this.#supervising.gpuExited(outcome.reason);
    else if (outcome?.type === 'stopped') this.#shutdown.finishIfAllExited();
  }

  #prepared(agent: string, prepared: Prepared): void {
    const slot = this.#s.slots.get(agent);
    if (!slot || this.#s.stop) return;
    if (prepared.ok) {
      slot.modulePath = prepared.path;
      this.#hosting.spawn(slot);
    } else {
      this.#supervising.giveUp(slot, prepared.reason);
    }
  }

  /** Applies what a host's report or exit came to. */
  #supervise(outcome: HostOutcome | undefined): void {
    if (!outcome) return;
    const supervising = this.#supervising;
    switch (outcome.type) {
      case 'crashed':
        supervising.crash(outcome.slot, outcome.reason, outcome.index);
        return;
      case 'startFailed':
        this.#requestStop(supervising.startFailed(outcome.slot, outcome.reason), false);
        return;
      case 'givenUp':
        supervising.giveUp(outcome.slot, outcome.reason);
        return;
      case 'relaunch':
        for (const slot of supervising.relaunch(outcome.slot, outcome.reason)) this.#startHost(slot);
        return;
      case 'finished':
        supervising.finished(outcome.slot);
        return;
      case 'stopped':
        this.#shutdown.stopNext();
        return;
    }
  }

  #control(command: ControlCommand): void {
    switch (command.type) {
      case 'inject': {
        const { to, kind, payload, correlationId } = command;
        if (this.injectRefusal(to, payload)) return;
        this.#s.enter(EXTERNAL, { to, kind, payload, correlationId });
        break;
      }
      case 'reinject': {
        const letter = this.#s.deadLetters.take(command.id);
        if (!letter) return;
        const { from, to, kind, payload, correlationId } = letter.envelope;
        this.#s.enter(from ?? EXTERNAL, { to, kind, payload, correlationId });
        this.#s.emit({ type: 'message.reinjected', id: command.id, agent: to ?? '' });
        break;
      }
      case 'kill': {
        const host = this.#s.slots.get(command.agent)?.host;
        if (host !== undefined) this.#s.effects.push({ type: 'kill', host });
        return;
      }
      case 'restart': {
        const slot = this.#s.slots.get(command.agent);
        // Already being ended (its watchdog fired, say): that end stands.
        if (!slot || this.restartRefusal(command.agent) || slot.host === undefined) return;
        if (slot.faultReason !== undefined) return;
        slot.faultReason = 'restarted by hand';
        slot.byHand = true;
        this.#s.effects.push({ type: 'kill', host: slot.host });
        return;
      }
      case 'reload': {
        const slot = this.#s.slots.get(command.agent);
        if (!slot) return;
        // Not running now: the next start loads the new module.
        slot.modulePath = command.path;
        if (this.restartRefusal(command.agent) || slot.host === undefined) return;
        if (slot.faultReason !== undefined) return;
        slot.faultReason = 'reloaded: its module changed';
        slot.byHand = true;
        this.#s.effects.push({ type: 'kill', host: slot.host });
        return;
      }
      case 'pause':
        this.#loop.pause();
        return;
      case 'resume':
        this.#loop.resume();
        return;
      case 'step':
        this.#loop.step();
        return;
      case 'stop':
        this.#requestStop(command.reason, command.ok);
        return;
      case 'recorded':
        this.#s.options.replay?.extend(command.records);
        break;
      case 'recording.whole':
        this.#s.options.replay?.complete();
        break;
    }
  }
}
