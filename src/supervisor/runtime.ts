// The supervisor's executor: performs what the runtime core (core/) decides. It starts agent hosts
// (processes, threads, the shared pool, a warm spare) and the GPU host, moves frames and keeps
// timers; every event from the world goes to the core as a typed input, one at a time.
import { availableParallelism } from 'node:os';
import type { HostProcess } from '../launch/index.js';
import { type Envelope, errorText, type JournalRecord, type Output } from '../protocol/index.js';
import { type Clock, systemClock } from './clock.js';
import type { SystemSpec } from './config/index.js';
import {
  type AgentStatus,
  type CoreInput,
  type DeadLetter,
  type Effect,
  type GpuLatencies,
  type HostRef,
  MemorySnapshotStore,
  type ModelStatus,
  type RunSummary,
  RuntimeCore,
  type RuntimeEvent,
  type TimerRef,
} from './core/index.js';
import { HostStarter } from './host-starter.js';
import { launchGpuHost } from './inference/index.js';
import { defaultModuleCacheDir, ModuleCache } from './module-cache.js';
import type { RecordingSlice } from './replay/index.js';
import type { RuntimeOptions } from './runtime-options.js';
import { launchToolHost } from './tool-launch.js';

export type { RuntimeOptions } from './runtime-options.js';

/**
 * Starting a host includes forking a process, which on a loaded machine takes far longer than
 * handling a batch; limits.watchdogMs covers batches, this covers (re)starts.
 */
const START_TIMEOUT_MS = 60_000;
/** Host starts in flight at once (start-gate.ts): one per core (more start no faster: bench/start.mjs). */
const START_CONCURRENCY = Math.max(2, availableParallelism());

export class Runtime {
  readonly #spec: SystemSpec;
  readonly #options: RuntimeOptions;
  readonly #core: RuntimeCore;
  readonly #clock: Clock;
  readonly #modules: ModuleCache;
  readonly #starter: HostStarter;
  readonly #hosts = new Map<HostRef, HostProcess>();
  readonly #timers = new Map<TimerRef, () => void>();
  /** The GPU latencies as last taken (gpuLatencies reports what came since). */
  #latenciesTaken: GpuLatencies = new Map();
  /** Inputs waiting for the core: an effect (an event handler, say) may cause further inputs. */
  readonly #queue: CoreInput[] = [];
  #busy = false;
  #resolve!: (summary: RunSummary) => void;
  readonly done: Promise<RunSummary>;

  constructor(spec: SystemSpec, options: RuntimeOptions) {
    this.#spec = spec;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    // In a pure replay the answers come from the journal: no GPU host.
    const pureReplay = options.replay !== undefined && options.journal === undefined;
    const gpu = spec.models.length > 0 && !pureReplay;
    this.#core = new RuntimeCore(spec, {
      backend: options.launcher.backend,
      gpu,
      tools: spec.tools.length > 0 && !pureReplay,
      maxTicks: options.maxTicks,
      untilIdle: options.untilIdle,
      startConcurrency: options.startConcurrency ?? START_CONCURRENCY,
      startTimeoutMs: options.startTimeoutMs ?? START_TIMEOUT_MS,
      shutdownMs: options.shutdownMs ?? 5000,
      snapshots: options.snapshots ?? new MemorySnapshotStore(),
      journaled: options.journal !== undefined,
      replay: options.replay !== undefined,
      checkpointEvery: options.checkpointEvery,
    });
    this.#modules = new ModuleCache(
      options.cacheDir ?? defaultModuleCacheDir(),
      (text) => this.#emit({ type: 'system.warning', text }),
      options.sdkEntry,
    );
    this.#starter = new HostStarter(
      spec,
      options,
      () => this.#modules.directory,
      (isolation, pid) => this.#emit({ type: 'host.spare', isolation, pid }),
    );
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  start(): Promise<RunSummary> {
    this.#input({ type: 'start' });
    this.#boot().catch((error: unknown) => this.#input({ type: 'boot.failed', reason: errorText(error) }));
    return this.done;
  }

  /** Prepares (meters) each module and hands it to the core, in declared order. */
  async #boot(): Promise<void> {
    for (const agent of this.#spec.agents) {
      const result = await this.#modules.prepare(agent, this.#spec.root);
      if (this.#core.stopping) break;
      this.#input({ type: 'prepared', agent: agent.name, result });
    }
  }

  /**
   * Sends a message from outside; it enters at the next tick boundary. A payload larger than the
   * target's limits.maxMessageBytes is refused here (the returned reason), before it is buffered.
   */
  inject(to: string, kind: string, payload: Uint8Array, correlationId = ''): string | undefined {
    const refusal = this.#core.injectRefusal(to, payload);
    if (refusal) return refusal;
    this.#control({ type: 'inject', to, kind, payload, correlationId });
    return undefined;
  }

  /** The dead letters kept (the newest, within a bound), oldest first. */
  deadLetters(): DeadLetter[] {
    return this.#core.deadLetters();
  }

  /**
   * Sends a dead letter again, as its original sender, at the next tick boundary; capabilities
   * and limits are checked again. Returns an error message when no such dead letter is kept.
   */
  reinject(id: string): string | undefined {
    if (!this.#core.hasDeadLetter(id)) return `no dead letter with id "${id}" is kept`;
    this.#control({ type: 'reinject', id });
    return undefined;
  }

  /** What waits for an agent now: its mailbox, and what enters it at the next tick boundary. */
  mailbox(agent: string): {
    queued: readonly Envelope[];
    inTransit: Array<{ from: string; output: Output }>;
  } {
    return this.#core.mailbox(agent);
  }

  /** Kills an agent's host, as a crash from outside would. */
  kill(agent: string): void {
    this.#control({ type: 'kill', agent });
  }

  /** The GPU host's state, pid and requests waiting, when the system has models. */
  gpuStatus(): { state: string; pid?: number; pending: number } | undefined {
    const status = this.#core.gpuStatus();
    if (!status) return undefined;
    const pid = status.host === undefined ? undefined : this.#hosts.get(status.host)?.pid;
    return { state: status.state, ...(pid ? { pid } : {}), pending: status.pending };
  }

  /** Per model, answers since the last call and their total latency (for charts). */
  gpuLatencies(): GpuLatencies {
    const now = this.#core.gpuLatencies();
    const since = new Map<string, { answers: number; totalMs: number }>();
    for (const [model, { answers, totalMs }] of now) {
      const before = this.#latenciesTaken.get(model) ?? { answers: 0, totalMs: 0 };
      const latency = { answers: answers - before.answers, totalMs: totalMs - before.totalMs };
      if (latency.answers > 0) since.set(model, latency);
    }
    this.#latenciesTaken = now;
    return since;
  }

  /** The declared models: state, provider and counters. Empty without models. */
  models(): ModelStatus[] {
    return this.#core.models();
  }

  get paused(): boolean {
    return this.#core.paused;
  }

  /** The last tick started. */
  get tick(): number {
    return this.#core.tick;
  }

  /** Stops starting ticks after the one in flight (agents keep their state; crashes are still handled). */
  pause(): void {
    this.#control({ type: 'pause' });
  }

  resume(): void {
    this.#control({ type: 'resume' });
  }

  /** While paused: runs one more tick. */
  step(): void {
    this.#control({ type: 'step' });
  }

  /**
   * Restarts an agent by hand: its host is killed and its supervisor restarts it as after any
   * crash. Returns why not when it cannot be (unknown, or not running).
   */
  restart(agent: string): string | undefined {
    const refusal = this.#core.restartRefusal(agent);
    if (refusal) return refusal;
    this.#control({ type: 'restart', agent });
    return undefined;
  }

  /**
   * Prepares the agent's module again (its source changed) and restarts the agent on it, as after
   * a crash: its mailbox is kept, its state comes from init (a snapshot of the old module does
   * not fit the new one). Resolves to why not when the new module cannot be prepared.
   */
  async reload(agent: string): Promise<string | undefined> {
    const spec = this.#spec.agents.find((item) => item.name === agent);
    if (!spec) return `no agent named "${agent}"`;
    const prepared = await this.#modules.prepare(spec, this.#spec.root, { rebundle: true });
    if (!prepared.ok) return prepared.reason;
    this.#control({ type: 'reload', agent, path: prepared.path });
    return undefined;
  }

  /** Per agent: lifecycle state, mailbox depth, deliveries, restarts and last crash. */
  agents(): AgentStatus[] {
    return this.#core.agents();
  }

  /**
   * Following a run while it is recorded (its replay made `following`): more of its recording,
   * in order. The run replays each tick once the recording has gone past it.
   */
  followRecording(records: JournalRecord[]): void {
    this.#recording(this.#options.replay?.extend(records));
  }

  /** The recording followed is whole (its coordinator is gone): the rest is replayed, then the run goes on live. */
  recordingWhole(): void {
    this.#recording(this.#options.replay?.complete());
  }

  /** Hands the core the part of the recording it asked for, once the replay source has it. */
  #recording(slice: RecordingSlice | undefined): void {
    if (slice) this.#input({ type: 'recording', ...slice });
  }

  /** Ends the run after the tick in flight, stopping agents in reverse start order. */
  requestStop(reason: string, ok = true): void {
    this.#control({ type: 'stop', reason, ok });
  }

  #control(command: Extract<CoreInput, { type: 'control' }>['command']): void {
    this.#input({ type: 'control', command });
  }

  /** Hands an input to the core and performs its effects; inputs they cause wait their turn. */
  #input(input: CoreInput): void {
    this.#queue.push(input);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        for (const effect of this.#core.handle(next, this.#clock.now())) this.#perform(effect);
      }
    } finally {
      this.#busy = false;
    }
  }

  #perform(effect: Effect): void {
    switch (effect.type) {
      case 'spawn':
        this.#spawn(effect);
        return;
      case 'send':
        this.#hosts.get(effect.host)?.send(effect.bytes);
        return;
      case 'kill':
        this.#hosts.get(effect.host)?.kill(effect.stuck);
        return;
      case 'arm': {
        const { timer } = effect;
        const cancel = this.#clock.setTimeout(() => {
          this.#timers.delete(timer);
          this.#input({ type: 'timer', timer });
        }, effect.ms);
        this.#timers.set(timer, cancel);
        return;
      }
      case 'disarm':
        this.#timers.get(effect.timer)?.();
        this.#timers.delete(effect.timer);
        return;
      case 'emit':
        this.#emit(effect.event);
        return;
      case 'batch':
        this.#options.onBatch?.(effect.tick, effect.agent, effect.envelopes);
        return;
      case 'requests':
        this.#options.onRequests?.(effect.tick, effect.requests);
        return;
      case 'started':
        this.#starter.systemStarted();
        return;
      case 'spawnGpu':
        this.#spawnGpu(effect.host, effect.restarts);
        return;
      case 'spawnTools': {
        const host = launchToolHost({
          launcher: this.#options.launcher,
          entry: this.#options.toolEntry,
          env: this.#options.hostEnv,
        });
        this.#attach(effect.host, host);
        this.#emit({ type: 'tools.spawned', pid: host.pid, restarts: effect.restarts });
        return;
      }
      case 'recording.wanted':
        this.#recording(this.#options.replay?.want(effect.tick));
        return;
      case 'record':
        this.#options.journal?.write(effect.record);
        return;
      case 'tickDone':
        this.#options.journal?.tickDone();
        return;
      case 'closeJournal':
        this.#options.journal?.close();
        return;
      case 'shutdown':
        this.#starter.shutdown();
        return;
      case 'finished':
        this.#starter.close();
        this.#modules.close();
        this.#resolve(effect.summary);
        return;
    }
  }

  /** Starts the GPU host (gpu-launch.ts): on this machine, or on a cluster node when one is asked for. */
  #spawnGpu(ref: HostRef, restarts: number): void {
    const { host, node } = launchGpuHost({
      launcher: this.#options.launcher,
      remote: this.#options.gpuLauncher,
      entry: this.#options.gpuEntry,
      models: this.#spec.models,
      env: this.#options.hostEnv,
    });
    this.#attach(ref, host);
    this.#emit({ type: 'gpu.spawned', pid: host.pid, restarts, ...(node ? { node } : {}) });
  }

  /** Starts a host for an agent (host-starter.ts) and hands what it says to the core. */
  #spawn({ host: ref, agent, isolation, maxFrameBytes }: Extract<Effect, { type: 'spawn' }>): void {
    const { host, warm, node } = this.#starter.start(agent, isolation, maxFrameBytes);
    this.#attach(ref, host);
    this.#emit({
      type: 'agent.spawned',
      agent,
      pid: host.pid,
      ...(warm ? { spare: true } : {}),
      ...(node ? { node } : {}),
    });
  }

  /** What the host says goes to the core, named by the core's number for it. */
  #attach(ref: HostRef, host: HostProcess): void {
    this.#hosts.set(ref, host);
    host.onFrame((bytes) => this.#input({ type: 'frame', host: ref, bytes }));
    host.onOversize((bytes, limit) => this.#input({ type: 'oversize', host: ref, bytes, limit }));
    host.onExit((info) => {
      this.#hosts.delete(ref);
      this.#input({ type: 'exit', host: ref, info });
    });
  }

  #emit(event: RuntimeEvent): void {
    this.#options.onEvent?.(event);
  }
}
