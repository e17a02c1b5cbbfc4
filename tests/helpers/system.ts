// Builds throwaway systems for tests and runs them on real processes, leaving no orphans.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeLauncher } from '../../src/launch/index.js';
import {
  loadSystem,
  type RunSummary,
  Runtime,
  type RuntimeEvent,
  type RuntimeOptions,
  type SystemSpec,
} from '../../src/supervisor/index.js';
import { GPU_ENTRY, HOST_ENTRY, TOOL_ENTRY } from './paths.js';

export interface ActorDecl {
  name: string;
  module: string;
  init?: string;
  restart?: 'permanent' | 'transient' | 'temporary';
  sendTo?: string[];
  /** Models the agent may use (capabilities.models). */
  models?: string[];
  /** Tool grants (capabilities.tools). */
  tools?: string[];
  snapshotEveryTicks?: number;
}

export interface SupervisorDecl {
  supervisor: string;
  strategy?: 'one_for_one' | 'one_for_all' | 'rest_for_one';
  maxRestarts?: number;
  agents: Array<ActorDecl | SupervisorDecl>;
}

export interface SystemDecl {
  /** Limits applied to every agent of the system. */
  limits?: Record<string, number | string>;
  /** Isolation of every agent (default: the config's default, process). */
  isolation?: 'process' | 'thread' | 'shared';
  seed?: number;
  maxBatch?: number;
  retryLimit?: number;
  maxRestarts?: number;
  periodMs?: number;
  strategy?: 'one_for_one' | 'one_for_all' | 'rest_for_one';
  backoff?: { initialTicks?: number; maxTicks?: number; multiplier?: number; jitter?: number };
  /** The system file's models list, as written. */
  models?: object[];
  /** The system file's tools list, as written. */
  tools?: object[];
  inference?: 'live' | 'strict';
  agents: Array<ActorDecl | SupervisorDecl>;
}

const dirs: string[] = [];

/** The folder every tempDir() is in: run from there, a command uses the systems tests write. */
export const TEMP_ROOT = tmpdir();

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-test-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes a system file (JSON is valid YAML) and loads it, with the filesystem root as project root. */
export function writeSystem(decl: SystemDecl, dir = tempDir()): SystemSpec {
  const file = join(dir, 'test.system.yaml');
  const child = (item: ActorDecl | SupervisorDecl): object =>
    'supervisor' in item
      ? { ...item, agents: item.agents.map(child) }
      : {
          name: item.name,
          module: item.module,
          ...(item.init === undefined ? {} : { init: item.init }),
          ...(item.restart ? { restart: item.restart } : {}),
          ...(decl.limits ? { limits: decl.limits } : {}),
          ...(decl.isolation ? { isolation: decl.isolation } : {}),
          ...(item.snapshotEveryTicks ? { snapshot: { everyTicks: item.snapshotEveryTicks } } : {}),
          capabilities: {
            sendTo: item.sendTo ?? ['*'],
            ...(item.models ? { models: item.models } : {}),
            ...(item.tools ? { tools: item.tools } : {}),
          },
        };
  const system = {
    name: 'test',
    seed: decl.seed ?? 1,
    scheduler: {
      maxBatch: decl.maxBatch ?? 1024,
      retryLimit: decl.retryLimit ?? 2,
      ...(decl.inference ? { inference: decl.inference } : {}),
    },
    ...(decl.models ? { models: decl.models } : {}),
    ...(decl.tools ? { tools: decl.tools } : {}),
    supervisor: {
      maxRestarts: decl.maxRestarts ?? 5,
      periodMs: decl.periodMs ?? 60_000,
      ...(decl.strategy ? { strategy: decl.strategy } : {}),
      ...(decl.backoff ? { backoff: decl.backoff } : {}),
    },
    agents: decl.agents.map(child),
  };
  writeFileSync(file, JSON.stringify(system, null, 2));
  return loadSystem(file, { root: '/' });
}

export interface TestRun {
  runtime: Runtime;
  events: RuntimeEvent[];
  done: Promise<RunSummary>;
}

const pids = new Set<number>();
/** The newest host pid of each agent, and of the GPU host, as the runtime reported them. */
const hostPids = new Map<string, number>();

/** The pid of the agent's current host process (from its agent.spawned event), if it has one. */
export function hostPid(agent: string): number | undefined {
  return hostPids.get(agent);
}

/** The pid of the GPU host process now running (from its gpu.spawned event). */
export function gpuHostPid(): number | undefined {
  return hostPids.get('@gpu');
}

/** Starts a runtime on the Node backend; every host pid is remembered for killAllHosts(). */
export function startRun(
  spec: SystemSpec,
  options: Partial<RuntimeOptions> = {},
  onTick?: (tick: { tick: number; agents: string[] }, runtime: Runtime) => void,
): TestRun {
  const events: RuntimeEvent[] = [];
  const runtime: Runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry: HOST_ENTRY,
    gpuEntry: GPU_ENTRY,
    toolEntry: TOOL_ENTRY,
    untilIdle: true,
    shutdownMs: 5000,
    ...options,
    onEvent: (event) => {
      events.push(event);
      const started =
        event.type === 'agent.spawned' ||
        event.type === 'gpu.spawned' ||
        event.type === 'tools.spawned' ||
        event.type === 'host.spare';
      if (started && event.pid) pids.add(event.pid);
      // The tool servers the tool host starts are processes of the run too.
      if (event.type === 'tool.ready' && event.pid) pids.add(event.pid);
      if (event.type === 'agent.spawned' && event.pid) hostPids.set(event.agent, event.pid);
      if (event.type === 'gpu.spawned' && event.pid) hostPids.set('@gpu', event.pid);
      if (event.type === 'tick') onTick?.(event, runtime);
      options.onEvent?.(event);
    },
  });
  return { runtime, events, done: runtime.start() };
}

/** Ends every host a test started, whether or not the test passed. */
export function killAllHosts(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: the normal case.
    }
  }
  pids.clear();
}

export function logsOf(events: readonly RuntimeEvent[], agent: string): string[] {
  return events.flatMap((event) => (event.type === 'agent.log' && event.agent === agent ? [event.text] : []));
}

export function statesOf(events: readonly RuntimeEvent[], agent: string): string[] {
  return events.flatMap((event) =>
    event.type === 'agent.state' && event.agent === agent ? [event.state] : [],
  );
}
