// What a Runtime is given: its launchers and host entries, limits on starts and stops, where
// modules, snapshots and the journal go, and the hooks tools observe it through.
import type { Launcher } from '../launch/index.js';
import type { Envelope } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { Isolation } from './config/index.js';
import type { RuntimeEvent, SnapshotStore } from './core/index.js';
import type { JournalSink } from './journal/index.js';
import type { ReplaySource } from './replay/index.js';

export interface RuntimeOptions {
  /** Starts agent hosts in processes (and the GPU host). */
  launcher: Launcher;
  /** Starts the hosts of agents with `isolation: thread`. Default: worker threads of this process. */
  threadLauncher?: Launcher;
  /** Hosts agents with `isolation: shared`. Default: a pool of worker threads, one per core. */
  sharedLauncher?: Launcher;
  /**
   * Where an agent's host runs when not here: a cluster's placement (a node's RemoteLauncher), or
   * undefined for this machine. Asked at every (re)start, so a restart may go to another node.
   */
  hostLauncher?: (agent: string, isolation: Isolation) => Launcher | undefined;
  /** Where the GPU host runs when not here (a cluster node); asked at every (re)start. */
  gpuLauncher?: () => Launcher | undefined;
  /** Built agent host entry (dist/actors/host-main.js). */
  hostEntry: string;
  /** Built GPU host entry. Default: dist/gpu-host/gpu-host-main.js beside this module. */
  gpuEntry?: string;
  /** Built tool host entry. Default: dist/tool-host/tool-host-main.js beside this module. */
  toolEntry?: string;
  clock?: Clock;
  /** Stop after this many ticks. */
  maxTicks?: number;
  /** Stop as soon as no agent has mail and none is starting. */
  untilIdle?: boolean;
  /** Keep one agent host process started ahead of need, for fast restarts. Default true. */
  warmSpare?: boolean;
  /**
   * Host starts (fork to ready) in flight at once. Default: one per core, at least 2. Agents of the
   * shared pool (nothing forked) have 32 times as many.
   */
  startConcurrency?: number;
  /** How long a host start (fork to ready) may take, counted from its own fork. Default 60 s. */
  startTimeoutMs?: number;
  /** How long each host gets to exit when the system stops before it is killed. */
  shutdownMs?: number;
  hostEnv?: Record<string, string>;
  /** Where metered modules are kept between runs (private to the user). Default: defaultModuleCacheDir(). */
  cacheDir?: string;
  /** Where the troupe/agent SDK is, for TypeScript and JavaScript agents. Default: beside this code. */
  sdkEntry?: string;
  /** Where agents' snapshots are kept. Default: in memory. */
  snapshots?: SnapshotStore;
  /** Records what is not a function of config, modules and seed (docs/operations.md, journal). */
  journal?: JournalSink;
  /**
   * Replays a recorded run: its inputs and kills at their ticks, every tick checked. The core is
   * given the recording as it asks for it; a divergence is in the run's summary.
   */
  replay?: ReplaySource;
  /** With a journal or a replay: hash every agent's state after every N-th tick. Default 100. */
  checkpointEvery?: number;
  /** Called with every batch handed out (for inspection tools; costs nothing when unset). */
  onBatch?: (tick: number, agent: string, envelopes: readonly Envelope[]) => void;
  /** Called with the requests each tick releases to the models and tools (for inspection tools). */
  onRequests?: (tick: number, requests: readonly Envelope[]) => void;
  onEvent?: (event: RuntimeEvent) => void;
}
