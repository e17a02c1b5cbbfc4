// Where the runtime's agent hosts come from: a launcher per isolation (processes, threads, the
// shared pool), a node's launcher for an agent placed there, and a warm spare per isolation that
// has hosts of its own, so a restart costs a module load instead of a fork.
import {
  type HostProcess,
  type Launcher,
  SharedPoolLauncher,
  type SpawnOptions,
  ThreadLauncher,
} from '../launch/index.js';
import type { Isolation, SystemSpec } from './config/index.js';
import { hostFrameLimit } from './core/index.js';
import type { RuntimeOptions } from './runtime-options.js';
import { SpareHost } from './spare-host.js';

type StarterOptions = Pick<
  RuntimeOptions,
  'launcher' | 'threadLauncher' | 'sharedLauncher' | 'hostLauncher' | 'hostEntry' | 'hostEnv' | 'warmSpare'
>;

/** A host started for an agent: a warm spare (`warm`), or new, on a node (`node`) or here. */
export interface StartedHost {
  host: HostProcess;
  warm: boolean;
  node?: string;
}

export class HostStarter {
  readonly #options: StarterOptions;
  /** The folder of metered modules agent hosts may read (known once modules are prepared). */
  readonly #modules: () => string | undefined;
  /** Hosts started ahead of need (spare-host.ts), one per isolation that has its own host. */
  readonly #spares = new Map<Isolation, SpareHost>();
  #systemStarted = false;
  #threads: Launcher | undefined;
  #pool: Launcher | undefined;

  /** `onSpare` hears of each spare started (its isolation and pid). */
  constructor(
    spec: SystemSpec,
    options: StarterOptions,
    modules: () => string | undefined,
    onSpare: (isolation: 'process' | 'thread', pid: number | undefined) => void,
  ) {
    this.#options = options;
    this.#modules = modules;
    // A process or a thread of its own is started ahead of need; the shared pool's threads stay up.
    for (const isolation of ['process', 'thread'] as const) {
      if (!(options.warmSpare ?? true) || !spec.agents.some((agent) => agent.isolation === isolation))
        continue;
      const maxFrameBytes = Math.max(...spec.agents.map((agent) => hostFrameLimit(agent.limits)));
      const spare = new SpareHost(() => {
        const host = this.#launcherFor(isolation).spawn({
          ...this.#hostOptions(),
          name: 'spare',
          maxFrameBytes,
        });
        onSpare(isolation, host.pid);
        return host;
      });
      this.#spares.set(isolation, spare);
    }
  }

  /** A host for `agent`: on its node when it is placed on one, else a warm spare, else a new one. */
  start(agent: string, isolation: Isolation, maxFrameBytes: number): StartedHost {
    const remote = this.#options.hostLauncher?.(agent, isolation);
    const spare = remote ? undefined : this.#spares.get(isolation);
    const warm = spare?.take();
    const host =
      warm ??
      (remote ?? this.#launcherFor(isolation)).spawn({ ...this.#hostOptions(), name: agent, maxFrameBytes });
    // The next restart after a host dies takes a spare instead of waiting for a fork; forking one
    // takes ~10 ms of this thread, so it is done after this agent's load went out.
    if (spare && this.#systemStarted) setImmediate(() => spare.fill());
    const node = (remote as { node?: string } | undefined)?.node;
    return { host, warm: warm !== undefined, ...(node ? { node } : {}) };
  }

  /** Every agent has started: spares are started from now on. */
  systemStarted(): void {
    this.#systemStarted = true;
    for (const spare of this.#spares.values()) spare.fill();
  }

  /** The system stops: no more spares (a waiting one ends). */
  shutdown(): void {
    for (const spare of this.#spares.values()) spare.close();
  }

  /** The run is over: the thread launchers end their threads. */
  close(): void {
    this.#threads?.close?.();
    this.#pool?.close?.();
  }

  /** What every agent host is started with (a spare is started before its agent is known). */
  #hostOptions(): Omit<SpawnOptions, 'name'> {
    const directory = this.#modules();
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
}
