// Runs the agents a host process serves: turns host commands into host events.
import type { HostCommand, HostEvent } from '../protocol/index.js';
import { ABI_VERSION } from './abi.js';
import { compileAgentModule } from './module-check.js';
import { AgentSandbox, type LogRecord, NO_LIMITS, type RunResult } from './sandbox.js';

export interface AgentHostOptions {
  readModule(path: string): Promise<Uint8Array>;
  emit(events: HostEvent[]): void;
  /** Called when a Stop command leaves the host with no agent to serve. */
  onIdleStop(): void;
}

interface Slot {
  sandbox: AgentSandbox | undefined;
  generation: number;
}

export class AgentHost {
  readonly #options: AgentHostOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #compiled = new Map<string, WebAssembly.Module>();

  constructor(options: AgentHostOptions) {
    this.#options = options;
  }

  async run(command: HostCommand): Promise<void> {
    const agent = command.agent as string;
    if (command.load) await this.#load(agent, command.load);
    else if (command.deliver) this.#deliver(agent, command.deliver);
    else if (command.stop) this.#stop(agent);
  }

  async #load(agent: string, load: NonNullable<HostCommand['load']>): Promise<void> {
    const generation = load.generation ?? 0;
    const slot: Slot = { sandbox: undefined, generation };
    this.#slots.set(agent, slot);
    const path = load.modulePath ?? '';
    let module = this.#compiled.get(path);
    if (!module) {
      let bytes: Uint8Array;
      try {
        bytes = await this.#options.readModule(path);
      } catch (error) {
        return this.#loadFailed(
          agent,
          generation,
          `cannot read module ${path}: ${(error as Error).message}`,
          true,
        );
      }
      const check = compileAgentModule(bytes, `module ${path}`);
      if (!check.ok) return this.#loadFailed(agent, generation, check.reason, true);
      module = check.module;
      this.#compiled.set(path, module);
    }
    let sandbox: AgentSandbox;
    try {
      const limits = load.limits ?? {};
      sandbox = AgentSandbox.instantiate(module, load.seed ?? 0, {
        fuel: limits.fuel ?? 0,
        maxMessageBytes: limits.maxMessageBytes || NO_LIMITS.maxMessageBytes,
        maxSendsPerMessage: limits.maxSendsPerMessage || NO_LIMITS.maxSendsPerMessage,
        memoryPages: limits.memoryPages || NO_LIMITS.memoryPages,
      });
    } catch (error) {
      return this.#loadFailed(agent, generation, `instantiation failed: ${(error as Error).message}`, false);
    }
    const result = sandbox.init(load.initData ?? new Uint8Array(0), load.tick ?? 0);
    const logs = logEvents(agent, result.logs, load.tick ?? 0);
    if (!result.ok) {
      this.#options.emit([
        ...logs,
        loadFailedEvent(agent, generation, `init failed: ${result.reason}`, false),
      ]);
      return;
    }
    slot.sandbox = sandbox;
    this.#options.emit([
      ...logs,
      { agent, ready: { generation, abi: ABI_VERSION, outputs: result.outputs } },
    ]);
  }

  #deliver(agent: string, deliver: NonNullable<HostCommand['deliver']>): void {
    const tick = deliver.tick ?? 0;
    const slot = this.#slots.get(agent);
    if (!slot?.sandbox) {
      this.#options.emit([
        { agent, failed: { tick, index: 0, reason: `agent "${agent}" is not loaded in this host` } },
      ]);
      return;
    }
    const result: RunResult = slot.sandbox.handle(deliver.envelopes ?? [], tick);
    const events = logEvents(agent, result.logs, tick);
    if (result.ok) {
      events.push({
        agent,
        done: { tick, outputs: result.outputs, finished: result.finished, handled: result.handled },
      });
      if (result.finished) slot.sandbox = undefined;
    } else {
      // The instance may be corrupt after a trap; the supervisor decides whether to load it again.
      slot.sandbox = undefined;
      events.push({ agent, failed: { tick, index: result.index, reason: result.reason } });
    }
    this.#options.emit(events);
  }

  #stop(agent: string): void {
    this.#slots.delete(agent);
    if (this.#slots.size === 0) this.#options.onIdleStop();
  }

  #loadFailed(agent: string, generation: number, reason: string, permanent: boolean): void {
    this.#options.emit([loadFailedEvent(agent, generation, reason, permanent)]);
  }
}

function loadFailedEvent(agent: string, generation: number, reason: string, permanent: boolean): HostEvent {
  return { agent, loadFailed: { generation, reason, permanent } };
}

function logEvents(agent: string, logs: readonly LogRecord[], tick: number): HostEvent[] {
  return logs.map((log) => ({ agent, log: { level: log.level, text: log.text, tick } }));
}
