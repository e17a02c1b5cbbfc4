// The supervisor's decisions, without IO: typed inputs in (core-io.ts), effects out. It runs the
// lockstep ticks, supervises agents and the GPU host, and applies OTP decisions; the executor
// (runtime.ts) starts hosts, moves bytes and keeps time. Same inputs, same effects. Its parts share
// one CoreState: Hosting (agent hosts and frames), GpuHosting (the GPU host, its requests in flight
// and models), Supervising (OTP decisions), TickLoop (planning ticks), Shutdown. No part calls
// another: each returns what happened, and the control flow between them is here and in the tick
// boundary (tick-boundary.ts). Operators' commands are operator-commands.ts.
import type { ExitInfo } from '../../launch/index.js';
import type { Envelope, Output } from '../../protocol/index.js';
import type { SystemSpec } from '../config/index.js';
import type { ControlCommand, CoreInput, Effect, HostRef, Prepared } from './core-io.js';
import { type CoreOptions, CoreState } from './core-state.js';
import type { AgentStatus, ModelStatus } from './events.js';
import type { GpuLatencies, GpuState } from './gpu-hosting.js';
import { Hosting, type HostOutcome } from './hosting.js';
import { applyCommand, injectRefusal, restartRefusal } from './operator-commands.js';
import type { DeadLetter } from './scheduler.js';
import { Shutdown } from './shutdown.js';
import { Supervising } from './supervising.js';
import { GPU_HOST, TOOL_HOST } from './supervision.js';
import { TickBoundary } from './tick-boundary.js';
import { TickLoop } from './tick-loop.js';

export type { CoreOptions } from './core-state.js';

export class RuntimeCore {
  readonly #s: CoreState;
  readonly #hosting: Hosting;
  readonly #supervising: Supervising;
  readonly #loop: TickLoop;
  readonly #shutdown: Shutdown;
  readonly #boundary: TickBoundary;

  constructor(spec: SystemSpec, options: CoreOptions) {
    this.#s = new CoreState(spec, options);
    this.#hosting = new Hosting(this.#s);
    this.#supervising = new Supervising(this.#s);
    this.#loop = new TickLoop(this.#s);
    this.#shutdown = new Shutdown(this.#s);
    this.#boundary = new TickBoundary(this.#s, {
      hosting: this.#hosting,
      supervising: this.#supervising,
      loop: this.#loop,
      shutdown: this.#shutdown,
    });
  }

  /**
   * Takes one input at wall-clock time `now`; returns the effects to perform, in order. After
   * each input the tick loop runs (the one place it is run from): whatever the input changed, the
   * loop decides what follows at the tick boundary.
   */
  handle(input: CoreInput, now: number): Effect[] {
    this.#s.now = now;
    this.#take(input);
    this.#boundary.pump();
    const effects = this.#s.effects;
    this.#s.effects = [];
    return effects;
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
        this.#boundary.requestStop(`start failed: ${input.reason}`, false);
        return;
      case 'frame':
        if (this.#s.tools.owns(input.host)) {
          for (const answer of this.#s.tools.onFrame(input.host, input.bytes))
            this.#s.inference.toolAnswer(answer);
          return;
        }
        if (this.#s.gpu.owns(input.host)) {
          for (const { request, answer } of this.#s.gpu.onFrame(input.host, input.bytes, this.#s.now))
            this.#s.inference.answer(request, answer);
          return;
        }
        for (const outcome of this.#hosting.onFrame(input.host, input.bytes)) this.#supervise(outcome);
        return;
      case 'oversize':
        if (this.#s.tools.owns(input.host)) this.#s.tools.onOversize(input.host, input.bytes, input.limit);
        else if (this.#s.gpu.owns(input.host)) this.#s.gpu.onOversize(input.host, input.bytes, input.limit);
        else
          this.#hosting.hostFault(
            input.host,
            `sent a frame of ${input.bytes} bytes, above its limit of ${input.limit}`,
          );
        return;
      case 'exit':
        if (this.#s.tools.owns(input.host)) this.#toolsExited(input.host, input.info);
        else if (this.#s.gpu.owns(input.host)) this.#gpuExited(input.host, input.info);
        else this.#supervise(this.#hosting.onExit(input.host, input.info));
        return;
      case 'timer':
        if (!this.#s.gpu.onTimer(input.timer) && !this.#s.tools.onTimer(input.timer))
          this.#hosting.onTimer(input.timer);
        return;
      case 'control':
        this.#control(input.command);
        return;
      case 'recording':
        this.#s.bridge.recording(input);
        return;
    }
  }

  /** Why an injection would be refused, before it is buffered; undefined when it would be taken. */
  injectRefusal(to: string, payload: Uint8Array): string | undefined {
    return injectRefusal(this.#s, to, payload);
  }

  /** Why a hand restart would be refused; undefined when the agent has a host to restart. */
  restartRefusal(agent: string): string | undefined {
    return restartRefusal(this.#s, agent);
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
    // Models load and tool servers start while the agents start.
    this.#s.gpu.start();
    this.#s.tools.start();
  }

  /** The tool host exited: the calls it held are answered LOST; a death goes to the tree. */
  #toolsExited(host: HostRef, info: ExitInfo): void {
    const { outcome, lost } = this.#s.tools.onExit(host, info);
    for (const answer of lost) this.#s.inference.toolAnswer(answer);
    if (outcome?.type === 'died') this.#supervising.serviceExited(TOOL_HOST, outcome.reason);
    else if (outcome?.type === 'stopped') this.#shutdown.finishIfAllExited();
  }

  /**
   * The GPU host exited: generations it cut short are answered with an error; a death goes to the
   * supervision tree, an end at shutdown lets the run finish.
   */
  #gpuExited(host: HostRef, info: ExitInfo): void {
    const { outcome, interrupted } = this.#s.gpu.onExit(host, info, this.#s.now);
    for (const { request, answer } of interrupted) this.#s.inference.answer(request, answer);
    if (outcome?.type === 'died') this.#supervising.serviceExited(GPU_HOST, outcome.reason);
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
        this.#boundary.requestStop(supervising.startFailed(outcome.slot, outcome.reason), false);
        return;
      case 'givenUp':
        supervising.giveUp(outcome.slot, outcome.reason);
        return;
      case 'relaunch':
        for (const slot of supervising.relaunch(outcome.slot, outcome.reason)) this.#boundary.startHost(slot);
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
        this.#boundary.requestStop(command.reason, command.ok);
        return;
      default:
        applyCommand(this.#s, command);
    }
  }
}
