// The supervisor's engine: starts agent hosts, runs lockstep ticks, restarts crashed agents.
// Decisions come from the scheduler and supervision.ts (pure); this file only acts on them.
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { agentSeed, LOG_LEVELS } from '../actors/index.js';
import {
  type ExitInfo,
  type HostProcess,
  type Launcher,
  SharedPoolLauncher,
  type SpawnOptions,
  ThreadLauncher,
} from '../launch/index.js';
import { type Envelope, encodeCommand, errorText, type HostEvent, type Output } from '../protocol/index.js';
import { AgentSlot } from './agent-slot.js';
import { type Clock, systemClock } from './clock.js';
import type { Isolation, SystemSpec } from './config/index.js';
import { DeadLetterLog } from './dead-letter-log.js';
import type { AgentStatus, RunSummary, RuntimeEvent } from './events.js';
import { describeExit } from './exit-reason.js';
import { checkHostFrame, hostFrameLimit } from './host-frame.js';
import { GpuService, InferenceRouter, type ModelStatus } from './inference/index.js';
import { JournalBridge, type JournalSink, type KillOutcome, type ReplayDriver } from './journal/index.js';
import { defaultModuleCacheDir, ModuleCache } from './module-cache.js';
import { summarize, undeliveredReport } from './run-report.js';
import { type DeadLetter, EXTERNAL, Scheduler, type TickPlan } from './scheduler.js';
import { MemorySnapshotStore, type SnapshotStore } from './snapshot-store.js';
import { SpareHost } from './spare-host.js';
import { StartGate } from './start-gate.js';
import {
  type ChildExit,
  type Decision,
  decideExit,
  NO_HISTORY,
  type RestartHistory,
  SupervisionTree,
} from './supervision.js';

export interface RuntimeOptions {
  /** Starts agent hosts in processes (and the GPU host). */
  launcher: Launcher;
  /** Starts the hosts of agents with `isolation: thread`. Default: worker threads of this process. */
  threadLauncher?: Launcher;
  /** Hosts agents with `isolation: shared`. Default: a pool of worker threads, one per core. */
  sharedLauncher?: Launcher;
  /** Built agent host entry (dist/actors/host-main.js). */
  hostEntry: string;
  /** Built GPU host entry. Default: dist/gpu/gpu-host-main.js beside this module. */
  gpuEntry?: string;
  clock?: Clock;
  /** Stop after this many ticks. */
  maxTicks?: number;
  /** Stop as soon as no agent has mail and none is starting. */
  untilIdle?: boolean;
  /** Keep one agent host process started ahead of need, for fast restarts. Default true. */
  warmSpare?: boolean;
  /** Host starts (fork to ready) in flight at once. Default: one per core, at least 2. */
  startConcurrency?: number;
  /** How long a host start (fork to ready) may take, counted from its own fork. Default 60 s. */
  startTimeoutMs?: number;
  /** How long each host gets to exit when the system stops before it is killed. */
  shutdownMs?: number;
  hostEnv?: Record<string, string>;
  /** Where metered modules are kept between runs (private to the user). Default: defaultModuleCacheDir(). */
  cacheDir?: string;
  /** Where agents' snapshots are kept. Default: in memory. */
  snapshots?: SnapshotStore;
  /** Records what is not a function of config, modules and seed (docs/operations.md, journal). */
  journal?: JournalSink;
  /** Replays a recorded run: its inputs and kills at their ticks, every tick checked. */
  replay?: ReplayDriver;
  /** With a journal or a replay: hash every agent's state after every N-th tick. Default 100. */
  checkpointEvery?: number;
  /** Called with every batch handed out (for inspection tools; costs nothing when unset). */
  onBatch?: (tick: number, agent: string, envelopes: readonly Envelope[]) => void;
  onEvent?: (event: RuntimeEvent) => void;
}

/**
 * Starting a host includes forking a process, which on a loaded machine takes far longer than
 * handling a batch; limits.watchdogMs covers batches, this covers (re)starts.
 */
const START_TIMEOUT_MS = 60_000;
/** Host starts in flight at once (start-gate.ts): one per core (more start no faster: bench/start.mjs). */
const START_CONCURRENCY = Math.max(2, availableParallelism());
/** Dead letters kept for re-injection; all are counted, the oldest beyond these are forgotten. */
const DEAD_LETTERS_KEPT = { count: 10_000, bytes: 64 * 1024 * 1024 };

export class Runtime {
  readonly #spec: SystemSpec;
  readonly #options: RuntimeOptions;
  #threads: Launcher | undefined;
  /** A process host started ahead of need (spare-host.ts); none without process agents. */
  readonly #spare: SpareHost | undefined;
  #systemStarted = false;
  #pool: Launcher | undefined;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #modules: ModuleCache;
  readonly #snapshots: SnapshotStore;
  readonly #tree: SupervisionTree;
  #history: RestartHistory = NO_HISTORY;
  /** Children that ended during the tick in flight; decided at the tick boundary, in rank order. */
  #exits: ChildExit[] = [];
  readonly #slots = new Map<string, AgentSlot>();
  readonly #gate: StartGate<AgentSlot>;
  readonly #inflight = new Set<string>();
  readonly #trace: Hash = createHash('sha256');
  #delivered = 0;
  readonly #deadLetters = new DeadLetterLog(DEAD_LETTERS_KEPT);
  #rejectedFrames = 0;
  #idle = false;
  /** Paused: no tick starts; `#steps` ticks may still run (step one tick at a time). */
  #paused = false;
  #steps = 0;
  #stop: { reason: string; ok: boolean } | undefined;
  #shuttingDown = false;
  /** Journal recording and replay (journal/journal-bridge.ts); inert without either. */
  readonly #bridge: JournalBridge;
  /** Inference requests and answers (inference/inference-router.ts). */
  readonly #inference: InferenceRouter;
  #summary: RunSummary | undefined;
  /** Agents whose module was refused before they ever ran, with why: the run cannot end ok. */
  readonly #neverStarted = new Map<string, string>();
  #resolve!: (summary: RunSummary) => void;
  readonly done: Promise<RunSummary>;

  constructor(spec: SystemSpec, options: RuntimeOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#scheduler = new Scheduler(spec.agents, { ...spec.scheduler, models: spec.models });
    this.#gate = new StartGate(options.startConcurrency ?? START_CONCURRENCY);
    if ((options.warmSpare ?? true) && spec.agents.some((agent) => agent.isolation === 'process')) {
      const maxFrameBytes = Math.max(...spec.agents.map((agent) => hostFrameLimit(agent.limits)));
      this.#spare = new SpareHost(() => {
        const host = options.launcher.spawn({ ...this.#hostOptions(), name: 'spare', maxFrameBytes });
        this.#emit({ type: 'host.spare', pid: host.pid });
        return host;
      });
    }
    this.#modules = new ModuleCache(options.cacheDir ?? defaultModuleCacheDir(), (text) =>
      this.#emit({ type: 'system.warning', text }),
    );
    this.#tree = new SupervisionTree(spec.supervisor, spec.agents);
    this.#snapshots = options.snapshots ?? new MemorySnapshotStore();
    this.#bridge = new JournalBridge(options.journal, options.replay, options.checkpointEvery);
    // In a pure replay the answers come from the journal: no GPU host.
    const pureReplay = options.replay !== undefined && options.journal === undefined;
    const gpu =
      spec.models.length > 0 && !pureReplay
        ? new GpuService({
            launcher: options.launcher,
            entry: options.gpuEntry,
            models: spec.models,
            clock: this.#clock,
            env: options.hostEnv,
            onAnswer: (request, answer) => this.#inference.answer(request, answer),
            onEvent: (event) => this.#emit(event),
          })
        : undefined;
    this.#inference = new InferenceRouter(gpu, spec.scheduler.inference, {
      enter: (from, output) => this.#enter(from, output),
      replaying: (tick) => this.#bridge.replaying(tick),
      wake: () => this.#pump(),
    });
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    for (const agent of spec.agents) {
      const slot = new AgentSlot(agent, (state) =>
        this.#emit({ type: 'agent.state', agent: agent.name, state, tick: this.#scheduler.tick }),
      );
      this.#slots.set(agent.name, slot);
    }
  }

  start(): Promise<RunSummary> {
    const { name, seed, agents } = this.#spec;
    const backend = this.#options.launcher.backend;
    this.#emit({ type: 'run.start', system: name, agents: agents.map((a) => a.name), seed, backend });
    for (const slot of this.#slots.values()) slot.actor.start();
    this.#boot().catch((error: unknown) => this.requestStop(`start failed: ${errorText(error)}`, false));
    return this.done;
  }

  /** Prepares (meters) each module and starts its agent, in declared order. */
  async #boot(): Promise<void> {
    // Models load while the agents start.
    this.#inference.gpu?.start();
    for (const slot of this.#slots.values()) {
      const prepared = await this.#modules.prepare(slot.spec);
      if (this.#stop) break;
      if (prepared.ok) {
        slot.modulePath = prepared.path;
        this.#spawn(slot);
      } else {
        this.#giveUp(slot, prepared.reason);
      }
    }
    this.#pump();
  }

  /**
   * Sends a message from outside; it enters at the next tick boundary. A payload larger than the
   * target's limits.maxMessageBytes is refused here (the returned reason), before it is buffered.
   */
  inject(to: string, kind: string, payload: Uint8Array, correlationId = ''): string | undefined {
    const limit = this.#slots.get(to)?.spec.limits.maxMessageBytes;
    if (limit !== undefined && payload.length > limit)
      return `the payload is ${payload.length} bytes, above limits.maxMessageBytes ${limit} of "${to}"`;
    this.#enter(EXTERNAL, { to, kind, payload, correlationId });
    this.#pump();
    return undefined;
  }

  /** An input from outside: staged for the next tick boundary, and journaled with that tick. */
  #enter(from: string, output: Output): void {
    this.#scheduler.stage(from, [output]);
    this.#bridge.entered(this.#scheduler.tick + 1, from, output);
  }

  /** The dead letters kept (the newest, within DEAD_LETTERS_KEPT), oldest first. */
  deadLetters(): DeadLetter[] {
    return this.#deadLetters.list();
  }

  /**
   * Sends a dead letter again, as its original sender, at the next tick boundary; capabilities
   * and limits are checked again. Returns an error message when no such dead letter is kept.
   */
  reinject(id: string): string | undefined {
    const letter = this.#deadLetters.take(id);
    if (!letter) return `no dead letter with id "${id}" is kept`;
    const { from, to, kind, payload, correlationId } = letter.envelope;
    this.#enter(from ?? EXTERNAL, { to, kind, payload, correlationId });
    this.#emit({ type: 'message.reinjected', id, agent: to ?? '' });
    this.#pump();
    return undefined;
  }

  /** What waits for an agent now: its mailbox, and what enters it at the next tick boundary. */
  mailbox(agent: string): {
    queued: readonly Envelope[];
    inTransit: Array<{ from: string; output: Output }>;
  } {
    return { queued: this.#scheduler.mailbox(agent), inTransit: this.#scheduler.inTransit(agent) };
  }

  /** Kills an agent's host process, as a crash from outside would. */
  kill(agent: string): void {
    this.#slots.get(agent)?.host?.kill();
  }

  /** The GPU host's state, pid and requests waiting, when the system has models. */
  gpuStatus(): { state: string; pid?: number; pending: number } | undefined {
    const gpu = this.#inference.gpu;
    if (!gpu) return undefined;
    return { state: gpu.state, ...(gpu.pid ? { pid: gpu.pid } : {}), pending: gpu.pending };
  }

  /** The declared models: state, provider and counters. Empty without models. */
  models(): ModelStatus[] {
    return this.#inference.gpu?.models() ?? [];
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The last tick started. */
  get tick(): number {
    return this.#scheduler.tick;
  }

  /** Stops starting ticks after the one in flight (agents keep their state; crashes are still handled). */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#steps = 0;
    this.#emit({ type: 'system.paused', tick: this.#scheduler.tick });
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#emit({ type: 'system.resumed', tick: this.#scheduler.tick });
    this.#pump();
  }

  /** While paused: runs one more tick. */
  step(): void {
    if (!this.#paused) return;
    this.#steps++;
    this.#pump();
  }

  /**
   * Restarts an agent by hand: its host is killed and its supervisor restarts it as after any
   * crash. Returns why not when it cannot be (unknown, or not running).
   */
  restart(agent: string): string | undefined {
    const slot = this.#slots.get(agent);
    if (!slot) return `no agent named "${agent}"`;
    if (!slot.host || slot.state === 'stopped' || slot.state === 'failed') {
      return `"${agent}" is ${slot.state}: it has no process to restart`;
    }
    slot.faultReason = 'restarted by hand';
    slot.host.kill();
    return undefined;
  }

  /** Per agent: lifecycle state, mailbox depth, deliveries, restarts and last crash. */
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

  /** Ends the run after the tick in flight, stopping agents in reverse start order. */
  requestStop(reason: string, ok = true): void {
    if (this.#stop) return;
    this.#stop = { reason, ok };
    this.#emit({ type: 'system.stopping', reason });
    this.#pump();
  }

  /** What every agent host is started with (a spare is started before its agent is known). */
  #hostOptions(): Omit<SpawnOptions, 'name'> {
    const directory = this.#modules.directory;
    return {
      entry: this.#options.hostEntry,
      env: this.#options.hostEnv,
      // An agent host reads its own code and the metered modules, nothing else.
      readPaths: directory ? [directory] : [],
    };
  }

  #launcherFor(isolation: Isolation): Launcher {
    if (isolation === 'thread') {
      this.#threads ??= this.#options.threadLauncher ?? new ThreadLauncher();
      return this.#threads;
    }
    if (isolation === 'shared') {
      this.#pool ??= this.#options.sharedLauncher ?? new SharedPoolLauncher();
      return this.#pool;
    }
    return this.#options.launcher;
  }

  /** Starts a host for the agent as soon as the start gate has room (its timeout starts then). */
  #spawn(slot: AgentSlot): void {
    this.#gate.request(slot, (next) => this.#fork(next));
  }

  #fork(slot: AgentSlot): void {
    // Queued while the system began to stop, or the agent was retired meanwhile.
    if (this.#stop || !slot.joining || slot.host) {
      this.#gate.release(slot);
      this.#pump();
      return;
    }
    const inProcess = slot.spec.isolation === 'process';
    const host =
      (inProcess ? this.#spare?.take() : undefined) ??
      this.#launcherFor(slot.spec.isolation).spawn({
        ...this.#hostOptions(),
        name: slot.name,
        maxFrameBytes: hostFrameLimit(slot.spec.limits),
      });
    slot.host = host;
    slot.faultReason = undefined;
    slot.stalled = false;
    host.onFrame((bytes) => this.#onFrame(slot, host, bytes));
    host.onOversize((bytes, limit) =>
      this.#hostFault(slot, host, `sent a frame of ${bytes} bytes, above its limit of ${limit}`),
    );
    host.onExit((info) => this.#onExit(slot, host, info));
    this.#emit({ type: 'agent.spawned', agent: slot.name, pid: host.pid });
    this.#load(slot);
    // The next restart after a host dies takes a spare instead of waiting for a fork; forking one
    // takes ~10 ms of this thread, so it is done after this agent's load went out.
    if (inProcess && this.#systemStarted) setImmediate(() => this.#spare?.fill());
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
      snapshot: slot.spec.snapshotEvery > 0 ? this.#snapshots.load(slot.name) : undefined,
    };
    this.#send(
      slot,
      encodeCommand({ agent: slot.name, load }),
      'loading the module',
      this.#options.startTimeoutMs ?? START_TIMEOUT_MS,
      'start timeout',
    );
  }

  /** Sends a command the host must answer, with the watchdog armed until it does. */
  #send(slot: AgentSlot, bytes: Uint8Array, what: string, ms: number, limit: string): void {
    const host = slot.host;
    if (!host) return;
    slot.disarm?.();
    slot.disarm = this.#clock.setTimeout(() => {
      if (slot.host !== host) return;
      slot.faultReason = `watchdog: no answer ${what} within ${ms} ms (${limit})`;
      slot.stalled = true;
      host.kill();
    }, ms);
    host.send(bytes);
  }

  #onFrame(slot: AgentSlot, host: HostProcess, bytes: unknown): void {
    if (slot.host !== host) return;
    const check = checkHostFrame(bytes, {
      agent: slot.name,
      limits: slot.spec.limits,
      batch: this.#inflight.has(slot.name) ? this.#scheduler.inflightSize(slot.name) : 0,
      logLines: slot.logLines,
    });
    if (!check.ok) {
      this.#hostFault(slot, host, `sent a malformed frame: ${check.error}`);
      return;
    }
    for (const event of check.events) this.#onHostEvent(slot, event);
    this.#pump();
  }

  /**
   * A host broke the protocol or a limit its sandbox enforces: it cannot be trusted with its agent.
   * The frame is counted and refused, the host killed; its exit is the agent's crash.
   */
  #hostFault(slot: AgentSlot, host: HostProcess, what: string): void {
    this.#rejectedFrames++;
    this.#emit({ type: 'frame.rejected', agent: slot.name, reason: what });
    slot.faultReason = `agent host ${what}`;
    host.kill();
  }

  #onHostEvent(slot: AgentSlot, event: HostEvent): void {
    const tick = this.#scheduler.tick;
    if (!event.log) {
      slot.disarm?.();
      slot.disarm = undefined;
    }
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
      // After READY, so the next fork is seen after this agent runs (one start per core at a time).
      this.#gate.release(slot);
      // Once every agent has started, a spare can be forked without slowing anyone's start.
      if (!this.#systemStarted && ![...this.#slots.values()].some((other) => other.joining)) {
        this.#systemStarted = true;
        this.#spare?.fill();
      }
    } else if (event.done && event.done.tick === tick && this.#inflight.delete(slot.name)) {
      const handled = event.done.finished ? (event.done.handled ?? 0) : undefined;
      this.#scheduler.complete(slot.name, event.done.outputs ?? [], handled);
      if (event.done.snapshot && event.done.snapshot.length > 0)
        this.#snapshots.save(slot.name, event.done.snapshot);
      if (event.done.stateHash && event.done.stateHash.length > 0)
        this.#bridge.stateHash(slot.name, event.done.stateHash);
      if (event.done.finished) {
        // An agent that finished starts over from init if it is restarted.
        this.#snapshots.drop(slot.name);
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

  #onExit(slot: AgentSlot, host: HostProcess, info: ExitInfo): void {
    if (slot.host !== host) return;
    this.#gate.release(slot);
    slot.host = undefined;
    slot.disarm?.();
    slot.disarm = undefined;
    if (this.#shuttingDown || slot.state === 'stopping') {
      slot.actor.send({ type: 'STOPPED' });
      if (this.#shuttingDown) this.#stopNext();
    } else if (slot.state !== 'stopped' && slot.state !== 'failed') {
      // A death we did not cause (kill -9, OOM killer, Runtime.kill) is an external input.
      const inFlight = this.#inflight.has(slot.name);
      this.#bridge.hostExited(slot.name, this.#scheduler.tick, inFlight, slot.faultReason !== undefined);
      // A first start that passed its start timeout means the agent could not start; a death
      // from outside, or a host we ended for breaking the protocol, is a crash like any other.
      if (!slot.started && slot.stalled && slot.faultReason) this.#startFailed(slot, slot.faultReason);
      else this.#crash(slot, slot.faultReason ?? describeExit(info));
    } else {
      this.#bridge.hostExited(slot.name, this.#scheduler.tick, false, true);
    }
    this.#pump();
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
        now: this.#clock.now(),
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
      this.requestStop(decision.reason, false);
    } else if (decision.type === 'retire') {
      for (const agent of decision.agents) this.#retire(this.#slots.get(agent) as AgentSlot, decision);
    } else {
      for (const agent of decision.agents)
        this.#restart(this.#slots.get(agent) as AgentSlot, decision.rejoinTick);
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
    if (slot.host) this.#load(slot);
    else this.#spawn(slot);
  }

  #retire(slot: AgentSlot, how: { failed: boolean; reason: string }): void {
    if (how.failed) slot.actor.send({ type: 'GIVE_UP', reason: how.reason });
    else if (slot.state === 'running' || slot.joining) slot.actor.send({ type: 'STOP' });
    const why = how.failed ? `failed: ${how.reason}` : how.reason;
    this.#deadLetter(this.#scheduler.close(slot.name, why));
    slot.host?.send(encodeCommand({ agent: slot.name, stop: { reason: why } }));
    if (!slot.host && slot.state === 'stopping') slot.actor.send({ type: 'STOPPED' });
  }

  /**
   * The agent's first start failed (its start function or init trapped or ran out of fuel, or it
   * passed its start timeout). As in OTP, a child that cannot start fails its supervisor's start,
   * and so the system's: it stops, with the agent and the reason.
   */
  #startFailed(slot: AgentSlot, reason: string): void {
    this.#retire(slot, { failed: true, reason });
    this.#emit({ type: 'agent.crashed', agent: slot.name, reason, tick: this.#scheduler.tick, restarts: 0 });
    this.requestStop(`start failed: agent "${slot.name}" could not start: ${reason}`, false);
  }

  /** A module that can never load (refused by the ABI check or the meter): no restart can help. */
  #giveUp(slot: AgentSlot, reason: string): void {
    if (slot.delivered === 0 && slot.restarts === 0) this.#neverStarted.set(slot.name, reason);
    this.#retire(slot, { failed: true, reason });
  }

  #pump(): void {
    if (this.#summary || this.#inflight.size > 0) return;
    const stateDivergence = this.#bridge.tickOver();
    if (stateDivergence) this.requestStop(stateDivergence, false);
    if (!this.#stop && this.#exits.length > 0) this.#superviseExits();
    if (this.#stop) {
      this.#shutdown();
      return;
    }
    const next = this.#scheduler.tick + 1;
    const kill = (agent: string): KillOutcome => {
      const slot = this.#slots.get(agent);
      if (slot?.host) {
        slot.host.kill();
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
      this.requestStop(`reached --max-ticks ${maxTicks}`);
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
      // Nothing to run now, but a restarted agent waits for a later tick: go straight there.
      const waiting = [...this.#slots.values()].filter(
        (slot) => slot.rejoinTick > next && !this.#scheduler.isClosed(slot.name),
      );
      if (waiting.length > 0) {
        this.#scheduler.skipTo(Math.min(...waiting.map((slot) => slot.rejoinTick)) - 1);
        this.#pump();
        return;
      }
      // A model still owes answers: they will wake the loop.
      if (this.#inference.owesAnswers) return;
      const divergence = this.#bridge.idleDivergence(plan.tick);
      if (divergence) {
        this.requestStop(divergence, false);
        return;
      }
      if (!this.#idle) this.#emit({ type: 'system.idle', tick: plan.tick });
      this.#idle = true;
      if (this.#options.untilIdle) this.requestStop('idle: no agent has mail');
      return;
    }
    this.#idle = false;
    this.#dispatch(plan);
  }

  /** Hands each batch of the planned tick to its host, and records or checks the tick. */
  #dispatch(plan: TickPlan): void {
    const sent: Array<{ agent: string; deliver: Uint8Array }> = [];
    const checkpoint = this.#bridge.checkpointAt(plan.tick);
    // The whole tick is in flight before any hook runs: an onBatch hook may inject or kill.
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
      this.#options.onBatch?.(plan.tick, batch.agent, batch.envelopes);
      sent.push({ agent: batch.agent, deliver: bytes });
      this.#delivered += batch.envelopes.length;
      slot.delivered += batch.envelopes.length;
      // Replaying a kill that hit this agent while it held this batch: the host dies instead.
      if (this.#bridge.killedInFlight(plan.tick, batch.agent)) slot.host?.kill();
      else
        this.#send(
          slot,
          wire,
          `to the batch of tick ${plan.tick}`,
          slot.spec.limits.watchdogMs,
          'limits.watchdogMs',
        );
    }
    const divergence = this.#bridge.dispatched(plan.tick, sent);
    if (divergence) this.requestStop(divergence, false);
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
    this.#spare?.close();
    this.#stopNext();
  }

  #stopNext(): void {
    for (const slot of [...this.#slots.values()].reverse()) {
      const host = slot.host;
      if (!host) {
        if (slot.state !== 'stopped' && slot.state !== 'failed') {
          slot.actor.send({ type: 'STOP' });
          slot.actor.send({ type: 'STOPPED' });
        }
        continue;
      }
      if (slot.stopping) return;
      slot.stopping = true;
      slot.actor.send({ type: 'STOP' });
      host.send(encodeCommand({ agent: slot.name, stop: { reason: this.#stop?.reason ?? '' } }));
      // Cancelled by the exit (like a watchdog), so a clean stop leaves no timer behind.
      slot.disarm?.();
      slot.disarm = this.#clock.setTimeout(() => {
        if (slot.host === host) host.kill();
      }, this.#options.shutdownMs ?? 5000);
      return;
    }
    this.#finishIfAllExited();
  }

  #finishIfAllExited(): void {
    if (this.#summary) return;
    for (const slot of this.#slots.values()) if (slot.host) return;
    const gpu = this.#inference.gpu;
    if (gpu && gpu.state !== 'stopped') {
      if (gpu.state !== 'stopping') void gpu.stop().then(() => this.#finishIfAllExited());
      return;
    }
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
    if (gpu) summary.models = gpu.models();
    for (const slot of this.#slots.values()) slot.actor.stop();
    this.#threads?.close?.();
    this.#pool?.close?.();
    this.#bridge.close();
    this.#summary = summary;
    const { ticks, delivered, trace } = summary;
    this.#emit({ type: 'run.end', ok, reason, ticks, delivered, trace, summary });
    this.#resolve(summary);
  }

  #emit(event: RuntimeEvent): void {
    this.#options.onEvent?.(event);
  }
}
