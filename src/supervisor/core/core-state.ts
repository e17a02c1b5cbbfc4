// The runtime core's state, shared by its parts (hosting, the GPU host, supervising, the tick loop,
// shutdown), and the few helpers every part uses to emit effects. No IO: effects are collected.
import { createHash, type Hash } from 'node:crypto';
import type { Output } from '../../protocol/index.js';
import type { SystemSpec } from '../config/index.js';
import { JournalBridge } from '../replay/index.js';
import { AgentSlot } from './agent-slot.js';
import type { Effect, HostRef, TimerRef } from './core-io.js';
import { DeadLetterLog } from './dead-letter-log.js';
import type { RuntimeEvent } from './events.js';
import { GpuHosting } from './gpu-hosting.js';
import { InferenceRouter } from './inference-router.js';
import { undeliveredReport } from './run-report.js';
import { type DeadLetter, Scheduler } from './scheduler.js';
import type { SnapshotStore } from './snapshot-store.js';
import { SupervisionTree } from './supervision.js';
import { ToolHosting, wireOf } from './tool-hosting.js';

export interface CoreOptions {
  /** Which launcher backend hosts process agents (reported in run.start). */
  backend: string;
  /** Whether a GPU host answers the models (none in a pure replay: answers come from the journal). */
  gpu: boolean;
  /** Whether a tool host runs the tool servers (none in a pure replay). Default: none. */
  tools?: boolean;
  maxTicks?: number;
  untilIdle?: boolean;
  startConcurrency: number;
  startTimeoutMs: number;
  shutdownMs: number;
  snapshots: SnapshotStore;
  /** The run keeps a journal: what to record comes out as effects (the executor holds the journal). */
  journaled?: boolean;
  /**
   * The run replays a recording. The core asks for it as it goes (`recording.wanted` effects) and
   * is given it as `recording` inputs.
   */
  replay?: boolean;
  checkpointEvery?: number;
}

/** Dead letters kept for re-injection; all are counted, the oldest beyond these are forgotten. */
const DEAD_LETTERS_KEPT = { count: 10_000, bytes: 64 * 1024 * 1024 };

export type Timer =
  | { type: 'watchdog'; slot: AgentSlot; host: HostRef; reason: string }
  | { type: 'shutdown'; slot: AgentSlot; host: HostRef };

export class CoreState {
  readonly spec: SystemSpec;
  readonly options: CoreOptions;
  readonly scheduler: Scheduler;
  readonly tree: SupervisionTree;
  readonly slots = new Map<string, AgentSlot>();
  /**
   * The slots starting or restarting, and those in backoff, kept as their states change: the tick
   * loop asks about them at every host event, and walking ten thousand slots each time made a
   * start storm quadratic.
   */
  readonly joining = new Set<AgentSlot>();
  readonly backingOff = new Set<AgentSlot>();
  /** Host numbers handed out: agent hosts and the GPU host share them. */
  #nextHost = 0;
  readonly timers = new Map<TimerRef, Timer>();
  #nextTimer = 0;
  readonly inflight = new Set<string>();
  readonly trace: Hash = createHash('sha256');
  delivered = 0;
  readonly deadLetters = new DeadLetterLog(DEAD_LETTERS_KEPT);
  rejectedFrames = 0;
  stop: { reason: string; ok: boolean } | undefined;
  shuttingDown = false;
  finished = false;
  readonly bridge: JournalBridge;
  readonly inference: InferenceRouter;
  /** The GPU host, driven like an agent host (none without models, or in a pure replay). */
  readonly gpu: GpuHosting;
  /** The tool host, driven the same way (none without tool servers, or in a pure replay). */
  readonly tools: ToolHosting;
  /** Agents whose module was refused before they ever ran, with why: the run cannot end ok. */
  readonly neverStarted = new Map<string, string>();
  now = 0;
  effects: Effect[] = [];

  constructor(spec: SystemSpec, options: CoreOptions) {
    this.spec = spec;
    this.options = options;
    this.scheduler = new Scheduler(spec.agents, {
      ...spec.scheduler,
      models: spec.models,
      tools: spec.tools.map((tool) => tool.name),
    });
    // The GPU host is a child of the tree whenever there are models, also in a pure replay (no
    // host runs, but its recorded deaths are decided again, restarting whom they restarted).
    this.tree = new SupervisionTree(spec.supervisor, spec.agents, {
      gpuHost: spec.models.length > 0,
      toolHost: spec.tools.length > 0,
    });
    this.bridge = new JournalBridge(
      options.journaled ? (effect) => this.effects.push(effect) : undefined,
      options.replay ? { want: (tick) => this.effects.push({ type: 'recording.wanted', tick }) } : undefined,
      options.checkpointEvery,
    );
    const io = {
      push: (effect: Effect) => this.effects.push(effect),
      emit: (event: RuntimeEvent) => this.emit(event),
      newHost: () => this.newHost(),
      arm: (ms: number) => {
        const timer = this.#nextTimer++;
        this.effects.push({ type: 'arm', timer, ms });
        return timer;
      },
      disarm: (timer: TimerRef) => this.effects.push({ type: 'disarm', timer }),
    };
    this.gpu = new GpuHosting(spec.models, options.gpu, io);
    this.tools = new ToolHosting(spec.tools.map(wireOf), options.tools ?? false, io);
    const tools = this.tools;
    const gpu = this.gpu;
    const port = gpu.enabled
      ? {
          submit: (requests: Array<{ id: string; model: string; request: Uint8Array }>) =>
            gpu.submit(requests, this.now),
          cancel: (model: string, id: string) => gpu.cancel(model, id),
        }
      : undefined;
    this.inference = new InferenceRouter(
      port,
      spec.scheduler.inference,
      {
        enter: (from, output) => this.enter(from, output),
        replaying: (tick) => this.bridge.replaying(tick),
      },
      tools.enabled ? { call: (calls) => tools.call(calls) } : undefined,
    );
    spec.agents.forEach((agent, rank) => {
      const slot: AgentSlot = new AgentSlot(agent, rank, (state) => {
        if (state === 'starting' || state === 'restarting') this.joining.add(slot);
        else this.joining.delete(slot);
        if (state === 'backoff') this.backingOff.add(slot);
        else this.backingOff.delete(slot);
        this.emit({ type: 'agent.state', agent: agent.name, state, tick: this.scheduler.tick });
      });
      this.slots.set(agent.name, slot);
    });
  }

  /** A number for a new host (the core names hosts by number; it holds no handles). */
  newHost(): HostRef {
    return this.#nextHost++;
  }

  emit(event: RuntimeEvent): void {
    this.effects.push({ type: 'emit', event });
  }

  arm(timer: Timer, ms: number): TimerRef {
    const ref = this.#nextTimer++;
    this.timers.set(ref, timer);
    this.effects.push({ type: 'arm', timer: ref, ms });
    return ref;
  }

  disarm(slot: AgentSlot): void {
    if (slot.timer === undefined) return;
    this.timers.delete(slot.timer);
    this.effects.push({ type: 'disarm', timer: slot.timer });
    slot.timer = undefined;
  }

  /** Sends a command the host must answer, with the watchdog armed until it does. */
  send(slot: AgentSlot, bytes: Uint8Array, what: string, ms: number): void {
    const host = slot.host;
    if (host === undefined) return;
    this.disarm(slot);
    slot.timer = this.arm({ type: 'watchdog', slot, host, reason: `watchdog: no answer ${what}` }, ms);
    this.effects.push({ type: 'send', host, bytes });
  }

  /** Replay: ends the agent's host as the recording says, by hand (with its reason) or from outside. */
  endHost(slot: AgentSlot, reason: string | undefined): void {
    if (slot.host === undefined) return;
    if (reason !== undefined) {
      slot.faultReason = reason;
      slot.byHand = true;
    }
    this.effects.push({ type: 'kill', host: slot.host });
  }

  deadLetter(letters: readonly DeadLetter[]): void {
    for (const letter of letters) {
      this.deadLetters.add(letter);
      this.emit({ type: 'message.dead', ...undeliveredReport(letter) });
    }
  }

  /** An input from outside: staged for the next tick boundary, and journaled with that tick. */
  enter(from: string, output: Output): void {
    this.scheduler.enter(from, output);
    this.bridge.entered(this.scheduler.tick + 1, from, output);
  }
}
