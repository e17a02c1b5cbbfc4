// Book-keeping for one supervised agent: its spec, lifecycle, host and counters (runtime core).
// The lifecycle is a value, advanced by XState's pure transition(): no running actor per agent.
import { initialTransition, type SnapshotFrom, transition } from 'xstate';
import type { Output } from '../../protocol/index.js';
import type { AgentSpec } from '../config/index.js';
import type { HostRef, TimerRef } from './core-io.js';
import { type LifecycleEvent, type LifecycleState, lifecycleMachine } from './lifecycle-machine.js';

export class AgentSlot {
  readonly spec: AgentSpec;
  /** Its place in the system's agent list: the order the core treats agents in. */
  readonly rank: number;
  /** Where its lifecycle stands (the machine's snapshot, a value). */
  #lifecycle: SnapshotFrom<typeof lifecycleMachine>;
  readonly #onState: (state: LifecycleState) => void;
  /** The run is over: its lifecycle takes no more events. */
  #stopped = false;
  host: HostRef | undefined;
  /** Bumped on every (re)load; reports from an older generation are ignored. */
  generation = 0;
  /** The tick from which the agent takes part: its init runs at rejoinTick - 1. */
  rejoinTick = 1;
  /** What init sent, held until the rejoin tick so early readiness changes nothing. */
  initOutputs: Output[] | undefined;
  delivered = 0;
  /** Why we killed the host ourselves, reported when its exit arrives. */
  faultReason: string | undefined;
  /**
   * The operator asked for the host's end (a restart or reload by hand): an input from outside,
   * journaled like a kill, though the core ended the host.
   */
  byHand = false;
  /** The watchdog killed the host: it stopped answering (see Scheduler.stalled). */
  stalled = false;
  /** The agent has been ready at least once: later start failures are crashes, not start failures. */
  started = false;
  /** Log lines the host reported since the agent's last load or batch (host-frame.ts checks it). */
  logLines = 0;
  /** The metered module the host loads (module-cache.ts). */
  modulePath = '';
  /** The system is stopping and this agent's host was asked to exit. */
  stopping = false;
  /** The watchdog armed for the command the host is working on. */
  timer: TimerRef | undefined;
  /** What its last batch used of its limits, as its host reported it (for the window only). */
  usage: { fuelUsed: number; memoryPages: number } | undefined;

  constructor(spec: AgentSpec, rank: number, onState: (state: LifecycleState) => void) {
    this.spec = spec;
    this.rank = rank;
    [this.#lifecycle] = initialTransition(lifecycleMachine, { agent: spec.name });
    this.#onState = onState;
  }

  /** The run has started: its first state is reported. */
  start(): void {
    this.#onState(this.state);
  }

  /** Advances its lifecycle by `event` (XState's pure transition); a new state is reported. */
  send(event: LifecycleEvent): void {
    if (this.#stopped) return;
    const before = this.state;
    [this.#lifecycle] = transition(lifecycleMachine, this.#lifecycle, event);
    if (this.state !== before) this.#onState(this.state);
  }

  /** The run is over: later events change nothing. */
  stop(): void {
    this.#stopped = true;
  }

  get name(): string {
    return this.spec.name;
  }

  get state(): LifecycleState {
    return this.#lifecycle.value as LifecycleState;
  }

  get restarts(): number {
    return this.#lifecycle.context.restarts;
  }

  get lastCrash(): string | undefined {
    return this.#lifecycle.context.lastCrash;
  }

  /** Starting or restarting: the scheduler holds the rejoin tick until this agent is ready. */
  get joining(): boolean {
    const state = this.state;
    return state === 'starting' || state === 'restarting';
  }

  /** Takes part in tick `tick`: running, and past its rejoin tick. */
  eligible(tick: number): boolean {
    return this.state === 'running' && this.rejoinTick <= tick;
  }
}
