// Runs the agents a host process serves: turns host commands into host events.

import { ABI_VERSION, HOST_LIMITS } from '../abi/index.js';
import type { HostCommand, HostEvent } from '../protocol/index.js';
import { errorText } from '../protocol/index.js';
import { cutText, type LogRecord } from './call-record.js';
import { isJsBundle, readJsBundle } from './js-bundle.js';
import { JsSandbox } from './js-sandbox.js';
import { compileAgentModule } from './module-check.js';
import { quickJsBinary } from './quickjs-engine.js';
import { AgentSandbox, NO_LIMITS, type RunResult, type Sandbox, type SandboxLimits } from './sandbox.js';
import { sha256 } from './snapshot.js';

export interface AgentHostOptions {
  readModule(path: string): Promise<Uint8Array>;
  emit(events: HostEvent[]): void;
  /** Called when a Stop command leaves the host with no agent to serve. */
  onIdleStop(): void;
}

/** A module ready to instantiate: WASM compiled, or a JavaScript bundle; `hash` names it in snapshots. */
type Compiled =
  | { kind: 'wasm'; module: WebAssembly.Module; hash: Uint8Array }
  | { kind: 'js'; code: string; file: string; hash: Uint8Array };

interface Slot {
  sandbox: Sandbox | undefined;
  compiled: Compiled;
  snapshotEvery: number;
  ticksHandled: number;
}

type Load = NonNullable<HostCommand['load']>;

export class AgentHost {
  readonly #options: AgentHostOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #compiled = new Map<string, Compiled>();

  constructor(options: AgentHostOptions) {
    this.#options = options;
  }

  async run(command: HostCommand): Promise<void> {
    const agent = command.agent as string;
    if (command.load) await this.#load(agent, command.load);
    else if (command.deliver) this.#deliver(agent, command.deliver);
    else if (command.stop) this.#stop(agent);
  }

  async #load(agent: string, load: Load): Promise<void> {
    const generation = load.generation ?? 0;
    this.#slots.delete(agent);
    const compiled = await this.#compile(load.modulePath ?? '');
    if (typeof compiled === 'string') return this.#emit([loadFailed(agent, generation, compiled, true)]);
    const tick = load.tick ?? 0;
    const limits = sandboxLimits(load);
    const events: HostEvent[] = [];
    const seed = load.seed ?? 0;
    const fresh = async (): Promise<Sandbox> =>
      compiled.kind === 'wasm'
        ? AgentSandbox.instantiate(compiled.module, seed, limits, agent)
        : JsSandbox.create(compiled, agent, seed, limits);
    let sandbox: Sandbox;
    const started = (instance: Sandbox): string | undefined => {
      const result = instance.start(tick);
      events.push(...logEvents(agent, result.logs, tick));
      return result.ok ? undefined : result.reason;
    };
    try {
      sandbox = await fresh();
      const startFailed = started(sandbox);
      if (startFailed) return this.#emit([...events, loadFailed(agent, generation, startFailed, false)]);
      if (load.snapshot && load.snapshot.length > 0) {
        const restored = sandbox.restore(load.snapshot, compiled.hash);
        if (restored.ok) {
          this.#slots.set(agent, {
            sandbox,
            compiled,
            snapshotEvery: load.snapshotEvery ?? 0,
            ticksHandled: 0,
          });
          events.push({ agent, log: { level: 1, text: 'restored from its last snapshot', tick } });
          return this.#emit([
            ...events,
            { agent, ready: { generation, abi: ABI_VERSION, outputs: [], restored: true } },
          ]);
        }
        events.push({
          agent,
          log: { level: 2, text: `snapshot refused (${restored.reason}); starting from init`, tick },
        });
        sandbox = await fresh();
        const restartFailed = started(sandbox);
        if (restartFailed)
          return this.#emit([...events, loadFailed(agent, generation, restartFailed, false)]);
      }
    } catch (error) {
      return this.#emit([
        ...events,
        loadFailed(agent, generation, `instantiation failed: ${errorText(error)}`, false),
      ]);
    }
    const result = sandbox.init(load.initData ?? new Uint8Array(0), tick, load.nextSeq ?? 1);
    events.push(...logEvents(agent, result.logs, tick));
    if (!result.ok)
      return this.#emit([...events, loadFailed(agent, generation, `init failed: ${result.reason}`, false)]);
    this.#slots.set(agent, { sandbox, compiled, snapshotEvery: load.snapshotEvery ?? 0, ticksHandled: 0 });
    this.#emit([...events, { agent, ready: { generation, abi: ABI_VERSION, outputs: result.outputs } }]);
  }

  async #compile(path: string): Promise<Compiled | string> {
    const known = this.#compiled.get(path);
    if (known) return known;
    let bytes: Uint8Array;
    try {
      bytes = await this.#options.readModule(path);
    } catch (error) {
      return `cannot read module ${path}: ${errorText(error)}`;
    }
    let compiled: Compiled;
    if (isJsBundle(path)) {
      const bundle = readJsBundle(bytes, path);
      if (typeof bundle === 'string') return bundle;
      // A snapshot holds the engine's memory too: it fits only the same bundle on the same QuickJS.
      compiled = {
        kind: 'js',
        ...bundle,
        hash: sha256(Buffer.concat([sha256(bytes), quickJsBinary().hash])),
      };
    } else {
      const check = compileAgentModule(bytes, `module ${path}`);
      if (!check.ok) return check.reason;
      compiled = { kind: 'wasm', module: check.module, hash: sha256(bytes) };
    }
    this.#compiled.set(path, compiled);
    return compiled;
  }

  #deliver(agent: string, deliver: NonNullable<HostCommand['deliver']>): void {
    const tick = deliver.tick ?? 0;
    const slot = this.#slots.get(agent);
    if (!slot?.sandbox) {
      this.#emit([
        { agent, failed: { tick, index: 0, reason: `agent "${agent}" is not loaded in this host` } },
      ]);
      return;
    }
    const result: RunResult = slot.sandbox.handle(deliver.envelopes ?? [], tick, deliver.nextSeq ?? 1);
    const events = logEvents(agent, result.logs, tick);
    if (!result.ok) {
      // The instance may be corrupt after a trap; the supervisor decides whether to load it again.
      slot.sandbox = undefined;
      events.push({ agent, failed: { tick, index: result.index, reason: result.reason } });
      this.#emit(events);
      return;
    }
    const { outputs, finished, handled, usage } = result;
    slot.ticksHandled++;
    const due = !finished && slot.snapshotEvery > 0 && slot.ticksHandled % slot.snapshotEvery === 0;
    const snapshot = due ? slot.sandbox.snapshot(slot.compiled.hash) : undefined;
    const stateHash = deliver.stateHash && !finished ? slot.sandbox.stateHash() : undefined;
    if (finished) slot.sandbox = undefined;
    const { fuelUsed, memoryPages } = usage;
    events.push({
      agent,
      done: { tick, outputs, finished, handled, snapshot, stateHash, fuelUsed, memoryPages },
    });
    this.#emit(events);
  }

  #stop(agent: string): void {
    this.#slots.delete(agent);
    if (this.#slots.size === 0) this.#options.onIdleStop();
  }

  #emit(events: HostEvent[]): void {
    this.#options.emit(events);
  }
}

function sandboxLimits(load: Load): SandboxLimits {
  const limits = load.limits ?? {};
  return {
    fuel: limits.fuel ?? 0,
    maxMessageBytes: limits.maxMessageBytes || NO_LIMITS.maxMessageBytes,
    maxSendsPerMessage: limits.maxSendsPerMessage || NO_LIMITS.maxSendsPerMessage,
    memoryPages: limits.memoryPages || NO_LIMITS.memoryPages,
  };
}

function loadFailed(agent: string, generation: number, reason: string, permanent: boolean): HostEvent {
  return { agent, loadFailed: { generation, reason: cutText(reason, HOST_LIMITS.reasonBytes), permanent } };
}

function logEvents(agent: string, logs: readonly LogRecord[], tick: number): HostEvent[] {
  return logs.map((log) => ({ agent, log: { level: log.level, text: log.text, tick } }));
}
