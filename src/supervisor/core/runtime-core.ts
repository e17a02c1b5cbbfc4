// The supervisor's decisions, without IO: typed inputs in (core-io.ts), effects out. It runs the
// lockstep ticks, supervises agents and the GPU host's requests, and applies OTP decisions; the
// executor (runtime.ts) starts hosts, moves bytes and keeps time. Same inputs, same effects.
import { createHash, type Hash } from 'node:crypto';
import { agentSeed, LOG_LEVELS } from '../../actors/index.js';
import type { ExitInfo } from '../../launch/index.js';
import { type Envelope, encodeCommand, type HostEvent, type Output } from '../../protocol/index.js';
import type { SystemSpec } from '../config/index.js';
import { JournalBridge, type JournalSink, type KillOutcome, type ReplayDriver } from '../journal/index.js';
import { AgentSlot } from './agent-slot.js';
import type { ControlCommand, CoreInput, Effect, HostRef, Prepared, TimerRef } from './core-io.js';
import { DeadLetterLog } from './dead-letter-log.js';
import type { AgentStatus, ModelStatus, RuntimeEvent } from './events.js';
import { describeExit } from './exit-reason.js';
import { checkHostFrame, hostFrameLimit } from './host-frame.js';
import { InferenceRouter } from './inference-router.js';
import { summarize, undeliveredReport } from './run-report.js';
import { type DeadLetter, EXTERNAL, Scheduler, type TickPlan } from './scheduler.js';
import type { SnapshotStore } from './snapshot-store.js';
import { StartGate } from './start-gate.js';
import {
  type ChildExit,
  type Decision,
  decideExit,
  GPU_HOST,
  NO_HISTORY,
  type RestartHistory,
  SupervisionTree,
} from './supervision.js';

export interface CoreOptions {
  /** Which launcher backend hosts process agents (reported in run.start). */
  backend: string;
  /** Whether a GPU host answers the models (none in a pure replay: answers come from the journal). */
  gpu: boolean;
  maxTicks?: number;
  untilIdle?: boolean;
  startConcurrency: number;
  startTimeoutMs: number;
  shutdownMs: number;
  snapshots: SnapshotStore;
  journal?: JournalSink;
  replay?: ReplayDriver;
  checkpointEvery?: number;
}

/** Dead letters kept for re-injection; all are counted, the oldest beyond these are forgotten. */
const DEAD_LETTERS_KEPT = { count: 10_000, bytes: 64 * 1024 * 1024 };

type Timer =
  | { type: 'watchdog'; slot: AgentSlot; host: HostRef; reason: string }
  | { type: 'shutdown'; slot: AgentSlot; host: HostRef };

export class RuntimeCore {
  readonly #spec: SystemSpec;
  readonly #options: CoreOptions;
  readonly #scheduler: Scheduler;
  readonly #tree: SupervisionTree;
  #history: RestartHistory = NO_HISTORY;
  /** Children that ended during the tick in flight; decided at the tick boundary, in rank order. */
  #exits: ChildExit[] = [];
  readonly #slots = new Map<string, AgentSlot>();
  readonly #hosts = new Map<HostRef, AgentSlot>();
  #nextHost = 0;
  readonly #timers = new Map<TimerRef, Timer>();
  #nextTimer = 0;
  readonly #gate: StartGate<AgentSlot>;
  readonly #inflight = new Set<string>();
  readonly #trace: Hash = createHash('sha256');
  #delivered = 0;
  readonly #deadLetters = new DeadLetterLog(DEAD_LETTERS_KEPT);
  #rejectedFrames = 0;
  #systemStarted = false;
  #idle = false;
  /** Paused: no tick starts; `#steps` ticks may still run (step one tick at a time). */
  #paused = false;
  #steps = 0;
  #stop: { reason: string; ok: boolean } | undefined;
  #shuttingDown = false;
  #gpuState: 'none' | 'running' | 'stopping' | 'stopped';
  #finished = false;
  readonly #bridge: JournalBridge;
  readonly #inference: InferenceRouter;
  /** Agents whose module was refused before they ever ran, with why: the run cannot end ok. */
  readonly #neverStarted = new Map<string, string>();
  #now = 0;
  /** A recorded death of the live GPU host was replayed: its coming exit is already decided. */
  #gpuDeathReplayed = false;
  /** The models' final state, reported by the GPU host's shutdown: for the summary. */
  #models: ModelStatus[] | undefined;
  #effects: Effect[] = [];

  constructor(spec: SystemSpec, options: CoreOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#scheduler = new Scheduler(spec.agents, { ...spec.scheduler, models: spec.models });
    this.#gate = new StartGate(options.startConcurrency);
    // The GPU host is a child of the tree whenever there are models, also in a pure replay (no
    // host runs, but its recorded deaths are decided again, restarting whom they restarted).
    this.#tree = new SupervisionTree(spec.supervisor, spec.agents, { gpuHost: spec.models.length > 0 });
    this.#bridge = new JournalBridge(options.journal, options.replay, options.checkpointEvery);
    const gpu = spec.models.length > 0 && options.gpu;
    this.#gpuState = gpu ? 'running' : 'none';
    const port = gpu
      ? {
          submit: (requests: Array<{ id: string; model: string; request: Uint8Array }>) =>
            this.#effects.push({ type: 'gpu.submit', requests }),
          cancel: (model: string, id: string) => this.#effects.push({ type: 'gpu.cancel', model, id }),
        }
      : undefined;
    this.#inference = new InferenceRouter(port, spec.scheduler.inference, {
      enter: (from, output) => this.#enter(from, output),
      replaying: (tick) => this.#bridge.replaying(tick),
      wake: () => this.#pump(),
    });
    for (const agent of spec.agents) {
      const slot = new AgentSlot(agent, (state) =>
        this.#emit({ type: 'agent.state', agent: agent.name, state, tick: this.#scheduler.tick }),
      );
      this.#slots.set(agent.name, slot);
    }
  }

  /** Takes one input at wall-clock time `now`; returns the effects to perform, in order. */
  handle(input: CoreInput, now: number): Effect[] {
    this.#now = now;
    this.#take(input);
    const effects = this.#effects;
    this.#effects = [];
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
        this.#requestStop(`start failed: ${input.reason}`, false);
        return;
      case 'frame':
        this.#onFrame(input.host, input.bytes);
        return;
      case 'oversize':
        this.#hostFault(
          input.host,
          `sent a frame of ${input.bytes} bytes, above its limit of ${input.limit}`,
        );
        return;
      case 'exit':
        this.#onExit(input.host, input.info);
        return;
      case 'timer':
        this.#onTimer(input.timer);
        return;
      case 'answer':
        this.#inference.answer(input.request, input.answer);
        return;
      case 'gpu.exit':
        this.#gpuExited(input.reason);
        return;
      case 'gpu.stopped':
        this.#gpuState = 'stopped';
        this.#models = input.models;
        this.#finishIfAllExited();
        return;
      case 'control':
        this.#control(input.command);
        return;
    }
  }

  // ---- queries (no effects) ----

  /** Why an injection would be refused, before it is buffered; undefined when it would be taken. */
  injectRefusal(to: string, payload: Uint8Array): string | undefined {
    const limit = this.#slots.get(to)?.spec.limits.maxMessageBytes;
    if (limit !== undefined && payload.length > limit)
      return `the payload is ${payload.length} bytes, above limits.maxMessageBytes ${limit} of "${to}"`;
    return undefined;
  }

  /** Why a hand restart would be refused; undefined when the agent has a host to restart. */
  restartRefusal(agent: string): string | undefined {
    const slot = this.#slots.get(agent);
    if (!slot) return `no agent named "${agent}"`;
    if (slot.host === undefined || slot.state === 'stopped' || slot.state === 'failed') {
      return `"${agent}" is ${slot.state}: it has no process to restart`;
    }
    return undefined;
  }

  /** Whether a dead letter with this id is kept (it can be re-sent). */
  hasDeadLetter(id: string): boolean {
    return this.#deadLetters.has(id);
  }

  /** The dead letters kept (the newest, within DEAD_LETTERS_KEPT), oldest first. */
  deadLetters(): DeadLetter[] {
    return this.#deadLetters.list();
  }

  mailbox(agent: string): {
    queued: readonly Envelope[];
    inTransit: Array<{ from: string; output: Output }>;
  } {
    return { queued: this.#scheduler.mailbox(agent), inTransit: this.#scheduler.inTransit(agent) };
  }

  agents(): AgentStatus[] {
    return [...this.#slots.values()].map((slot) => ({
      name: slot.name,
      state: slot.state,
      mailbox: this.#scheduler.mailboxDepth(slot.name),
      delivered: slot.delivered,
      restarts: slot.restarts,
      ...(slot.lastCrash ? { lastCrash: slot.lastCrash } : {}),
    }));
  }

  /** The batch the agent holds now (empty when it holds none). */
  inflight(agent: string): readonly Envelope[] {
    return this.#inflight.has(agent) ? this.#scheduler.inflight(agent) : [];
  }

  /** Every output waiting for the next tick boundary, whatever its address. */
  staging(): Array<{ from: string; output: Output }> {
    return this.#scheduler.staging();
  }

  /** What the agent's init sent, held until the tick it (re)joins at. */
  initOutputs(agent: string): readonly Output[] {
    return this.#slots.get(agent)?.initOutputs ?? [];
  }

  /** The agent a host belongs to, while it is that agent's host. */
  agentOf(host: HostRef): string | undefined {
    return this.#hosts.get(host)?.name;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The system was asked to stop (or decided to). */
  get stopping(): boolean {
    return this.#stop !== undefined;
  }

  get tick(): number {
    return this.#scheduler.tick;
  }

  // ---- inputs ----

  #start(): void {
    const { name, seed, agents } = this.#spec;
    const { backend } = this.#options;
    this.#emit({ type: 'run.start', system: name, agents: agents.map((a) => a.name), seed, backend });
    for (const slot of this.#slots.values()) slot.actor.start();
    // Models load while the agents start.
    if (this.#gpuState === 'running') this.#effects.push({ type: 'gpu.start' });
  }

  #prepared(agent: string, prepared: Prepared): void {
    const slot = this.#slots.get(agent);
    if (!slot || this.#stop) return;
    if (prepared.ok) {
      slot.modulePath = prepared.path;
      this.#spawn(slot);
    } else {
      this.#giveUp(slot, prepared.reason);
    }
    this.#pump();
  }

  #control(command: ControlCommand): void {
    switch (command.type) {
      case 'inject': {
        const { to, kind, payload, correlationId } = command;
        if (this.injectRefusal(to, payload)) return;
        this.#enter(EXTERNAL, { to, kind, payload, correlationId });
        break;
      }
      case 'reinject': {
        const letter = this.#deadLetters.take(command.id);
        if (!letter) return;
        const { from, to, kind, payload, correlationId } = letter.envelope;
        this.#enter(from ?? EXTERNAL, { to, kind, payload, correlationId });
        this.#emit({ type: 'message.reinjected', id: command.id, agent: to ?? '' });
        break;
      }
      case 'kill': {
        const host = this.#slots.get(command.agent)?.host;
        if (host !== undefined) this.#effects.push({ type: 'kill', host });
        return;
      }
      case 'restart': {
        const slot = this.#slots.get(command.agent);
        if (!slot || this.restartRefusal(command.agent) || slot.host === undefined) return;
        slot.faultReason = 'restarted by hand';
        this.#effects.push({ type: 'kill', host: slot.host });
        return;
      }
      case 'pause':
        if (this.#paused) return;
        this.#paused = true;
        this.#steps = 0;
        this.#emit({ type: 'system.paused', tick: this.#scheduler.tick });
        return;
      case 'resume':
        if (!this.#paused) return;
        this.#paused = false;
        this.#emit({ type: 'system.resumed', tick: this.#scheduler.tick });
        break;
      case 'step':
        if (!this.#paused) return;
        this.#steps++;
        break;
      case 'stop':
        this.#requestStop(command.reason, command.ok);
        return;
    }
    this.#pump();
  }

  /** An input from outside: staged for the next tick boundary, and journaled with that tick. */
  #enter(from: string, output: Output): void {
    this.#scheduler.stage(from, [output]);
    this.#bridge.entered(this.#scheduler.tick + 1, from, output);
  }

  /** Ends the run after the tick in flight, stopping agents in reverse start order. */
  #requestStop(reason: string, ok: boolean): void {
    if (this.#stop) return;
    this.#stop = { reason, ok };
    this.#emit({ type: 'system.stopping', reason });
    this.#pump();
  }

  /** Starts a host for the agent as soon as the start gate has room (its timeout starts then). */
  #spawn(slot: AgentSlot): void {
    this.#gate.request(slot, (next) => this.#fork(next));
  }

  #fork(slot: AgentSlot): void {
    // Queued while the system began to stop, or the agent was retired meanwhile.
    if (this.#stop || !slot.joining || slot.host !== undefined) {
      this.#gate.release(slot);
      this.#pump();
      return;
    }
    const host = this.#nextHost++;
    this.#hosts.set(host, slot);
    slot.host = host;
    slot.faultReason = undefined;
    slot.stalled = false;
    const { isolation, limits } = slot.spec;
    this.#effects.push({
      type: 'spawn',
      host,
      agent: slot.name,
      isolation,
      maxFrameBytes: hostFrameLimit(limits),
    });
    this.#load(slot);
  }

  #load(slot: AgentSlot): void {
    const { fuel, maxMessageBytes, maxSendsPerMessage, memoryPages } = slot.spec.limits;
    slot.logLines = 0;
    const load = {
      modulePath: slot.modulePath,
      initData: slot.spec.initData,
      seed: agentSeed(this.#spec.seed, slot.name),
      generation: slot.generation,
      tick: slot.rejoinTick - 1,
      limits: { fuel, maxMessageBytes, maxSendsPerMessage, memoryPages },
      snapshotEvery: slot.spec.snapshotEvery,
      snapshot: slot.spec.snapshotEvery > 0 ? this.#options.snapshots.load(slot.name) : undefined,
    };
    const ms = this.#options.startTimeoutMs;
    this.#send(
      slot,
      encodeCommand({ agent: slot.name, load }),
      `loading the module within ${ms} ms (start timeout)`,
      ms,
    );
  }

  /** Sends a command the host must answer, with the watchdog armed until it does. */
  #send(slot: AgentSlot, bytes: Uint8Array, what: string, ms: number): void {
    const host = slot.host;
    if (host === undefined) return;
    this.#disarm(slot);
    slot.timer = this.#arm({ type: 'watchdog', slot, host, reason: `watchdog: no answer ${what}` }, ms);
    this.#effects.push({ type: 'send', host, bytes });
  }

  #arm(timer: Timer, ms: number): TimerRef {
    const ref = this.#nextTimer++;
    this.#timers.set(ref, timer);
    this.#effects.push({ type: 'arm', timer: ref, ms });
    return ref;
  }

  #disarm(slot: AgentSlot): void {
    if (slot.timer === undefined) return;
    this.#timers.delete(slot.timer);
    this.#effects.push({ type: 'disarm', timer: slot.timer });
    slot.timer = undefined;
  }

  #onTimer(ref: TimerRef): void {
    const timer = this.#timers.get(ref);
    if (!timer) return;
    this.#timers.delete(ref);
    if (timer.slot.timer === ref) timer.slot.timer = undefined;
    if (timer.slot.host !== timer.host) return;
    if (timer.type === 'watchdog') {
      timer.slot.faultReason = timer.reason;
      timer.slot.stalled = true;
    }
    this.#effects.push({ type: 'kill', host: timer.host });
  }

  #onFrame(host: HostRef, bytes: unknown): void {
    const slot = this.#hosts.get(host);
    if (!slot || slot.host !== host) return;
    const check = checkHostFrame(bytes, {
      agent: slot.name,
      limits: slot.spec.limits,
      batch: this.#inflight.has(slot.name) ? this.#scheduler.inflightSize(slot.name) : 0,
      logLines: slot.logLines,
    });
    if (!check.ok) {
      this.#hostFault(host, `sent a malformed frame: ${check.error}`);
      return;
    }
    for (const event of check.events) this.#onHostEvent(slot, event);
    this.#pump();
  }

  /**
   * A host broke the protocol or a limit its sandbox enforces: it cannot be trusted with its agent.
   * The frame is counted and refused, the host killed; its exit is the agent's crash.
   */
  #hostFault(host: HostRef, what: string): void {
    const slot = this.#hosts.get(host);
    if (!slot || slot.host !== host) return;
    this.#rejectedFrames++;
    this.#emit({ type: 'frame.rejected', agent: slot.name, reason: what });
    slot.faultReason = `agent host ${what}`;
    this.#effects.push({ type: 'kill', host });
  }

  #onHostEvent(slot: AgentSlot, event: HostEvent): void {
    const tick = this.#scheduler.tick;
    if (!event.log) this.#disarm(slot);
    if (event.log) {
      slot.logLines++;
      const level = LOG_LEVELS[event.log.level ?? 1] ?? 'info';
      this.#emit({
        type: 'agent.log',
        agent: slot.name,
        level,
        text: event.log.text ?? '',
        tick: event.log.tick ?? 0,
      });
    } else if (event.ready && event.ready.generation === slot.generation && slot.joining) {
      slot.started = true;
      slot.initOutputs = event.ready.outputs ?? [];
      slot.actor.send({ type: 'READY' });
      // After READY, so the next start is seen after this agent runs (one start per core at a time).
      this.#gate.release(slot);
      // Once every agent has started, hosts can be started ahead of need without slowing anyone.
      if (!this.#systemStarted && ![...this.#slots.values()].some((other) => other.joining)) {
        this.#systemStarted = true;
        this.#effects.push({ type: 'started' });
      }
    } else if (event.done && event.done.tick === tick && this.#inflight.delete(slot.name)) {
      const handled = event.done.finished ? (event.done.handled ?? 0) : undefined;
      this.#scheduler.complete(slot.name, event.done.outputs ?? [], handled);
      if (event.done.snapshot && event.done.snapshot.length > 0)
        this.#options.snapshots.save(slot.name, event.done.snapshot);
      if (event.done.stateHash && event.done.stateHash.length > 0)
        this.#bridge.stateHash(slot.name, event.done.stateHash);
      if (event.done.finished) {
        // An agent that finished starts over from init if it is restarted.
        this.#options.snapshots.drop(slot.name);
        slot.actor.send({ type: 'FINISHED' });
        this.#exits.push({ agent: slot.name, exit: 'normal', reason: 'finished normally' });
      }
    } else if (event.failed && event.failed.tick === tick && this.#inflight.has(slot.name)) {
      this.#crash(slot, event.failed.reason ?? 'unknown failure', event.failed.index ?? 0);
    } else if (event.loadFailed && event.loadFailed.generation === slot.generation) {
      this.#gate.release(slot);
      const reason = event.loadFailed.reason ?? 'load failed';
      if (event.loadFailed.permanent) this.#giveUp(slot, reason);
      else if (!slot.started) this.#startFailed(slot, reason);
      else this.#crash(slot, reason);
    }
  }

  #onExit(host: HostRef, info: ExitInfo): void {
    const slot = this.#hosts.get(host);
    this.#hosts.delete(host);
    if (!slot || slot.host !== host) return;
    this.#gate.release(slot);
    slot.host = undefined;
    this.#disarm(slot);
    if (this.#shuttingDown || slot.state === 'stopping') {
      slot.actor.send({ type: 'STOPPED' });
      if (this.#shuttingDown) this.#stopNext();
    } else if (slot.state !== 'stopped' && slot.state !== 'failed') {
      // A death we did not cause (kill -9, OOM killer, a kill command) is an external input.
      const inFlight = this.#inflight.has(slot.name);
      // A host that ended by itself while running this agent: its batch is to blame, as a stall's.
      const culprit = info.culprit === true && slot.faultReason === undefined;
      if (culprit) slot.stalled = true;
      this.#bridge.hostExited(
        slot.name,
        this.#scheduler.tick,
        inFlight,
        slot.faultReason !== undefined,
        culprit,
      );
      // A first start that passed its start timeout means the agent could not start; a death
      // from outside, or a host we ended for breaking the protocol, is a crash like any other.
      if (!slot.started && slot.stalled && slot.faultReason) this.#startFailed(slot, slot.faultReason);
      else this.#crash(slot, slot.faultReason ?? describeExit(info));
    } else {
      this.#bridge.hostExited(slot.name, this.#scheduler.tick, false, true);
    }
    this.#pump();
  }

  /** The GPU host died: journaled like an agent's death from outside, decided at the tick boundary. */
  #gpuExited(reason: string): void {
    if (this.#stop) return;
    if (this.#gpuDeathReplayed) {
      this.#gpuDeathReplayed = false;
      return;
    }
    this.#bridge.hostExited(GPU_HOST, this.#scheduler.tick, this.#inflight.size > 0, false);
    this.#exits.push({ agent: GPU_HOST, exit: 'crash', reason });
    this.#pump();
  }

  /**
   * Replays a recorded death of the GPU host: its exit is decided now, where the recording decided
   * it; a live GPU host (a resumed run) is killed too, and its real exit is then not decided again.
   */
  #replayGpuDeath(): void {
    this.#bridge.hostExited(GPU_HOST, this.#scheduler.tick, false, true);
    if (this.#gpuState === 'running') {
      this.#gpuDeathReplayed = true;
      this.#effects.push({ type: 'gpu.kill' });
    }
    this.#exits.push({
      agent: GPU_HOST,
      exit: 'crash',
      reason: 'GPU host killed (replayed from the journal)',
    });
  }

  #crash(slot: AgentSlot, reason: string, index?: number): void {
    const stalled = slot.stalled;
    slot.stalled = false;
    if (this.#inflight.delete(slot.name)) {
      const scheduler = this.#scheduler;
      this.#deadLetter(
        stalled ? scheduler.stalled(slot.name, reason) : scheduler.fail(slot.name, index, reason),
      );
    }
    slot.actor.send({ type: 'CRASHED', reason });
    const { tick } = this.#scheduler;
    this.#bridge.crashed(tick, slot.name, reason);
    this.#emit({ type: 'agent.crashed', agent: slot.name, reason, tick, restarts: slot.restarts });
    this.#exits.push({ agent: slot.name, exit: 'crash', reason });
  }

  /** Hands the exits of the last tick to the supervision tree, in rank order, and applies its decisions. */
  #superviseExits(): void {
    const exits = this.#exits.sort((a, b) => (a.agent < b.agent ? -1 : 1));
    this.#exits = [];
    for (const exit of exits) {
      const context = {
        now: this.#now,
        tick: this.#scheduler.tick,
        seed: this.#spec.seed,
        alive: (agent: string) => !this.#scheduler.isClosed(agent),
        exceeded: (supervisor: string, byClock: boolean) =>
          this.#bridge.intensityExceeded(this.#scheduler.tick, supervisor, byClock),
      };
      const result = decideExit(this.#tree, this.#history, exit, context);
      this.#history = result.history;
      for (const decision of result.decisions) this.#apply(decision);
    }
  }

  #apply(decision: Decision): void {
    if (decision.type === 'shutdown') {
      this.#requestStop(decision.reason, false);
    } else if (decision.type === 'retire') {
      // The GPU host is retired only with the whole tree: the shutdown stops it after the agents.
      for (const agent of decision.agents)
        if (agent !== GPU_HOST) this.#retire(this.#slots.get(agent) as AgentSlot, decision);
    } else {
      for (const agent of decision.agents) {
        if (agent !== GPU_HOST) this.#restart(this.#slots.get(agent) as AgentSlot, decision.rejoinTick);
        else if (this.#gpuState === 'running') this.#effects.push({ type: 'gpu.restart' });
      }
    }
  }

  #restart(slot: AgentSlot, rejoinTick: number): void {
    slot.rejoinTick = rejoinTick;
    slot.initOutputs = undefined;
    this.#scheduler.reopen(slot.name);
    if (rejoinTick > this.#scheduler.tick + 1) slot.actor.send({ type: 'BACKOFF' });
    else this.#reload(slot);
  }

  /** Starts a fresh instance of the agent: in its host if it is alive, else in a new one. */
  #reload(slot: AgentSlot): void {
    slot.generation++;
    slot.actor.send({ type: 'RESTART' });
    if (slot.host !== undefined) this.#load(slot);
    else this.#spawn(slot);
  }

  #retire(slot: AgentSlot, how: { failed: boolean; reason: string }): void {
    if (how.failed) slot.actor.send({ type: 'GIVE_UP', reason: how.reason });
    else if (slot.state === 'running' || slot.joining) slot.actor.send({ type: 'STOP' });
    const why = how.failed ? `failed: ${how.reason}` : how.reason;
    this.#deadLetter(this.#scheduler.close(slot.name, why));
    if (slot.host !== undefined)
      this.#effects.push({
        type: 'send',
        host: slot.host,
        bytes: encodeCommand({ agent: slot.name, stop: { reason: why } }),
      });
    else if (slot.state === 'stopping') slot.actor.send({ type: 'STOPPED' });
  }

  /**
   * The agent's first start failed (its start function or init trapped or ran out of fuel, or it
   * passed its start timeout). As in OTP, a child that cannot start fails its supervisor's start,
   * and so the system's: it stops, with the agent and the reason.
   */
  #startFailed(slot: AgentSlot, reason: string): void {
    this.#retire(slot, { failed: true, reason });
    this.#emit({ type: 'agent.crashed', agent: slot.name, reason, tick: this.#scheduler.tick, restarts: 0 });
    this.#requestStop(`start failed: agent "${slot.name}" could not start: ${reason}`, false);
  }

  /** A module that can never load (refused by the ABI check or the meter): no restart can help. */
  #giveUp(slot: AgentSlot, reason: string): void {
    if (slot.delivered === 0 && slot.restarts === 0) this.#neverStarted.set(slot.name, reason);
    this.#retire(slot, { failed: true, reason });
  }

  #pump(): void {
    if (this.#finished || this.#inflight.size > 0) return;
    const stateDivergence = this.#bridge.tickOver();
    if (stateDivergence) this.#requestStop(stateDivergence, false);
    if (!this.#stop && this.#exits.length > 0) this.#superviseExits();
    if (this.#stop) {
      this.#shutdown();
      return;
    }
    const next = this.#scheduler.tick + 1;
    const kill = (agent: string): KillOutcome => {
      if (agent === GPU_HOST) {
        this.#replayGpuDeath();
        return 'gone';
      }
      const slot = this.#slots.get(agent);
      if (slot?.host !== undefined) {
        this.#effects.push({ type: 'kill', host: slot.host });
        return 'killed';
      }
      // A start still queued at the gate, or a restart due at this boundary: its host comes.
      const coming = slot && (slot.joining || (slot.state === 'backoff' && slot.rejoinTick <= next));
      if (coming && slot.state === 'backoff') this.#reload(slot);
      return coming ? 'wait' : 'gone';
    };
    const stage = (from: string, output: Output) => {
      this.#inference.replayed(from, output);
      this.#scheduler.stage(from, [output]);
    };
    // Replay: kills recorded between ticks happen (and their exits are awaited) before the next.
    if (!this.#bridge.beforePlan(this.#scheduler.tick, next, kill, stage)) return;
    // A replayed death of the GPU host is decided at this boundary, as it was when recorded.
    if (this.#exits.length > 0) {
      this.#superviseExits();
      if (this.#stop) {
        this.#shutdown();
        return;
      }
    }
    if (!this.#inference.beforeTick(next)) return;
    for (const slot of this.#slots.values()) {
      if (slot.state === 'backoff' && slot.rejoinTick <= next) this.#reload(slot);
      // A (re)starting agent holds the tick it rejoins at, however long its start takes.
      if (slot.joining && slot.rejoinTick <= next) return;
      if (slot.initOutputs && slot.rejoinTick <= next) {
        this.#scheduler.stage(slot.name, slot.initOutputs);
        slot.initOutputs = undefined;
      }
    }
    if (this.#paused) {
      if (this.#steps === 0) return;
      this.#steps--;
    }
    const { maxTicks } = this.#options;
    if (maxTicks !== undefined && this.#scheduler.tick >= maxTicks) {
      this.#requestStop(`reached --max-ticks ${maxTicks}`, true);
      return;
    }
    this.#bridge.syncTick();
    const eligible = (agent: string) => (this.#slots.get(agent) as AgentSlot).eligible(next);
    let plan = this.#scheduler.plan(eligible);
    this.#undelivered(plan);
    this.#inference.route(plan.tick, plan.requests);
    // A release can stage notices (rejections) of its own; they go out before the system may idle.
    if (plan.batches.length === 0 && this.#scheduler.staged) {
      plan = this.#scheduler.plan(eligible);
      this.#undelivered(plan);
      this.#inference.route(plan.tick, plan.requests);
    }
    if (plan.batches.length === 0) {
      this.#noBatches(plan.tick, next);
      return;
    }
    this.#idle = false;
    this.#dispatch(plan);
  }

  /** A boundary with nothing to hand out: skip to a waiting restart, wait for a model, or idle. */
  #noBatches(tick: number, next: number): void {
    let rejoin = Number.POSITIVE_INFINITY;
    for (const slot of this.#slots.values()) {
      if (slot.rejoinTick > next && !this.#scheduler.isClosed(slot.name))
        rejoin = Math.min(rejoin, slot.rejoinTick);
    }
    // Nothing to run now, but a restarted agent waits for a later tick: go straight there.
    if (rejoin !== Number.POSITIVE_INFINITY) {
      this.#scheduler.skipTo(rejoin - 1);
      this.#pump();
      return;
    }
    // A model still owes answers: they will wake the loop.
    if (this.#inference.owesAnswers) return;
    const divergence = this.#bridge.idleDivergence(tick);
    if (divergence) {
      this.#requestStop(divergence, false);
      return;
    }
    if (!this.#idle) this.#emit({ type: 'system.idle', tick });
    this.#idle = true;
    if (this.#options.untilIdle) this.#requestStop('idle: no agent has mail', true);
  }

  /** Hands each batch of the planned tick to its host, and records or checks the tick. */
  #dispatch(plan: TickPlan): void {
    const sent: Array<{ agent: string; deliver: Uint8Array }> = [];
    const checkpoint = this.#bridge.checkpointAt(plan.tick);
    for (const batch of plan.batches) this.#inflight.add(batch.agent);
    for (const batch of plan.batches) {
      const slot = this.#slots.get(batch.agent) as AgentSlot;
      slot.logLines = 0;
      const deliver = { tick: plan.tick, envelopes: batch.envelopes };
      const bytes = encodeCommand({ agent: batch.agent, deliver });
      // The trace covers deliveries only: the checkpoint request goes in a second encoding.
      const wire = checkpoint
        ? encodeCommand({ agent: batch.agent, deliver: { ...deliver, stateHash: true } })
        : bytes;
      this.#trace.update(bytes);
      this.#effects.push({ type: 'batch', tick: plan.tick, agent: batch.agent, envelopes: batch.envelopes });
      sent.push({ agent: batch.agent, deliver: bytes });
      this.#delivered += batch.envelopes.length;
      slot.delivered += batch.envelopes.length;
      // Replaying a kill that hit this agent while it held this batch: the host dies instead.
      if (this.#bridge.killedInFlight(plan.tick, batch.agent)) {
        // It died of this batch when recorded: the batch is charged again (see #onExit).
        if (this.#bridge.culpritInFlight(plan.tick, batch.agent)) slot.stalled = true;
        if (slot.host !== undefined) this.#effects.push({ type: 'kill', host: slot.host });
      } else {
        const ms = slot.spec.limits.watchdogMs;
        this.#send(slot, wire, `to the batch of tick ${plan.tick} within ${ms} ms (limits.watchdogMs)`, ms);
      }
    }
    // The GPU host died during this tick when recorded: its exit is decided with the tick's.
    if (this.#bridge.killedInFlight(plan.tick, GPU_HOST)) this.#replayGpuDeath();
    const divergence = this.#bridge.dispatched(plan.tick, sent);
    if (divergence) this.#requestStop(divergence, false);
    const agents = plan.batches.map((batch) => batch.agent);
    const envelopes = plan.batches.reduce((sum, batch) => sum + batch.envelopes.length, 0);
    this.#emit({ type: 'tick', tick: plan.tick, agents, envelopes });
  }

  #undelivered(plan: TickPlan): void {
    this.#deadLetter(plan.deadLetters);
    for (const letter of plan.rejected)
      this.#emit({ type: 'message.rejected', ...undeliveredReport(letter) });
  }

  #deadLetter(letters: readonly DeadLetter[]): void {
    for (const letter of letters) {
      this.#deadLetters.add(letter);
      this.#emit({ type: 'message.dead', ...undeliveredReport(letter) });
    }
  }

  /** Stops agents one at a time in reverse start order, each with shutdownMs to exit, then killed. */
  #shutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#effects.push({ type: 'shutdown' });
    this.#stopNext();
  }

  #stopNext(): void {
    for (const slot of [...this.#slots.values()].reverse()) {
      const host = slot.host;
      if (host === undefined) {
        if (slot.state !== 'stopped' && slot.state !== 'failed') {
          slot.actor.send({ type: 'STOP' });
          slot.actor.send({ type: 'STOPPED' });
        }
        continue;
      }
      if (slot.stopping) return;
      slot.stopping = true;
      slot.actor.send({ type: 'STOP' });
      const reason = this.#stop?.reason ?? '';
      this.#effects.push({
        type: 'send',
        host,
        bytes: encodeCommand({ agent: slot.name, stop: { reason } }),
      });
      // Cancelled by the exit (like a watchdog), so a clean stop leaves no timer behind.
      this.#disarm(slot);
      slot.timer = this.#arm({ type: 'shutdown', slot, host }, this.#options.shutdownMs);
      return;
    }
    this.#finishIfAllExited();
  }

  #finishIfAllExited(): void {
    if (this.#finished) return;
    for (const slot of this.#slots.values()) if (slot.host !== undefined) return;
    if (this.#gpuState === 'running') {
      this.#gpuState = 'stopping';
      this.#effects.push({ type: 'gpu.stop' });
    }
    if (this.#gpuState === 'stopping') return;
    const stop = this.#stop ?? { reason: 'stopped', ok: true };
    const unstarted = [...this.#neverStarted.keys()].map((agent) => `"${agent}"`);
    const ok = stop.ok && unstarted.length === 0;
    const reason =
      unstarted.length === 0
        ? stop.reason
        : `${stop.reason}; ${unstarted.length === 1 ? 'agent' : 'agents'} ${unstarted.join(', ')} never started (module refused)`;
    const summary = summarize(this.#slots.values(), {
      ok,
      reason,
      ticks: this.#scheduler.tick,
      delivered: this.#delivered,
      deadLetters: this.#deadLetters.count,
      rejectedFrames: this.#rejectedFrames,
      trace: this.#trace.digest('hex'),
    });
    if (this.#models) summary.models = this.#models;
    for (const slot of this.#slots.values()) slot.actor.stop();
    this.#bridge.close();
    this.#finished = true;
    const { ticks, delivered, trace } = summary;
    this.#emit({ type: 'run.end', ok, reason, ticks, delivered, trace, summary });
    this.#effects.push({ type: 'finished', summary });
  }

  #emit(event: RuntimeEvent): void {
    this.#effects.push({ type: 'emit', event });
  }
}
