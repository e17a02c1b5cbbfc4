// A dashboard session: one system (reloadable from its file) watched by any number of clients.
// It runs the system through a factory (so the CLI and the desktop app build runtimes their own
// way), folds its events into a DashboardModel and publishes snapshots on a timer.
import { nanoid } from 'nanoid';
import type { Envelope } from '../protocol/index.js';
import { errorText } from '../protocol/index.js';
import type { RunSummary, Runtime, RuntimeEvent, SystemSpec } from '../supervisor/index.js';
import { parseCommand } from './commands.js';
import { DashboardModel } from './view-model.js';
import type { AgentDetail, Command, ServerMessage, TickView } from './wire.js';

export interface CommandResult {
  error?: string;
  detail?: AgentDetail;
  at?: TickView;
}

/** What the HTTP server serves: a live session, or a recorded run opened for time travel. */
export interface DashboardEndpoint {
  subscribe(listener: (message: ServerMessage) => void): () => void;
  request(value: unknown): Promise<CommandResult>;
}

export interface RuntimeHooks {
  onEvent: (event: RuntimeEvent) => void;
  onBatch: (tick: number, agent: string, envelopes: readonly Envelope[]) => void;
  /** Requests released to the models and tools. */
  onRequests: (tick: number, requests: readonly Envelope[]) => void;
}

export interface SessionOptions {
  /** Loads (or reloads) the system file; throws a ConfigError on a bad file. */
  load: () => SystemSpec;
  /** Builds a runtime for the spec, wiring the hooks into its options. */
  create: (spec: SystemSpec, hooks: RuntimeHooks) => Runtime;
  /** How often clients get a snapshot. Default 250 ms. */
  publishMs?: number;
}

type Listener = (message: ServerMessage) => void;

export class DashboardSession {
  readonly #options: SessionOptions;
  readonly #listeners = new Set<Listener>();
  #runtime!: Runtime;
  #spec!: SystemSpec;
  #model!: DashboardModel;
  #run = 0;
  #timer: NodeJS.Timeout | undefined;
  #reloading = false;
  #ending = false;
  #resolve!: (summary: RunSummary) => void;
  /** This session's id, in every snapshot (from nanoid: nothing random enters the run's trace). */
  readonly id = nanoid();
  /** The summary of the last run, once the session ends (not on a reload). */
  readonly done: Promise<RunSummary>;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get runtime(): Runtime {
    return this.#runtime;
  }

  /** Loads the system and starts it; a config error is thrown to the caller. */
  start(): void {
    this.#begin(this.#options.load());
    this.#timer = setInterval(() => this.#publish(), this.#options.publishMs ?? 250);
  }

  /** Ends the session: the system stops gracefully; `done` resolves with its summary. */
  stop(reason: string): void {
    this.#ending = true;
    this.#runtime.requestStop(reason);
  }

  /**
   * Sends every snapshot to the listener, starting with a full one now. Returns an unsubscribe.
   * Deliveries not yet published go to the other clients first, so the full snapshot holds each
   * kept delivery once and the next one only what comes after it (a trace row is sent once).
   */
  subscribe(listener: Listener): () => void {
    this.#publish(true);
    this.#listeners.add(listener);
    listener({ type: 'snapshot', snapshot: this.#model.snapshot(this.#view(), performance.now(), true) });
    return () => this.#listeners.delete(listener);
  }

  /** Checks and carries out a command; returns why it was refused. */
  async command(value: unknown): Promise<string | undefined> {
    return (await this.request(value)).error;
  }

  /** A command, answered: why it was refused, or what it asked to see (`detail`). */
  async request(value: unknown): Promise<CommandResult> {
    const parsed = parseCommand(value, new Set(this.#spec.agents.map((agent) => agent.name)));
    if (!parsed.ok) return { error: parsed.error };
    if (parsed.command.op === 'detail') {
      const { agent } = parsed.command;
      return { detail: this.#model.detail(agent, this.#runtime.mailbox(agent), this.#view()) };
    }
    const error = await this.#apply(parsed.command);
    return error === undefined ? {} : { error };
  }

  async #apply(command: Command): Promise<string | undefined> {
    const runtime = this.#runtime;
    switch (command.op) {
      case 'pause':
        runtime.pause();
        return undefined;
      case 'resume':
        runtime.resume();
        return undefined;
      case 'step':
        if (!runtime.paused) return 'step works while paused';
        // Said as it is: on an idle system a step would run nothing, and the tick would stay put.
        if (this.#model.idle) return 'nothing to step: no agent has mail (the system is idle)';
        runtime.step();
        return undefined;
      case 'reinject':
        return this.#woken(runtime.reinject(command.id));
      case 'kill':
        runtime.kill(command.agent);
        this.#model.wake();
        return undefined;
      case 'restart':
        return this.#woken(runtime.restart(command.agent));
      case 'inject':
        return this.#woken(runtime.inject(command.to, command.kind, new TextEncoder().encode(command.text)));
      case 'reload':
        return this.#reload();
      case 'detail':
        return undefined;
      case 'seek':
        return 'seek works on a recorded run: open its journal with troupe inspect FILE --dashboard';
    }
  }

  /** A command that gives the system work: it is not idle any more, unless the command was refused. */
  #woken(refusal: string | undefined): string | undefined {
    if (refusal === undefined) this.#model.wake();
    return refusal;
  }

  /** Stops the running system and starts it again from its file (which may have changed). */
  async #reload(): Promise<string | undefined> {
    if (this.#reloading) return 'a reload is already in progress';
    let spec: SystemSpec;
    try {
      spec = this.#options.load();
    } catch (error) {
      return `the system file does not load, so the running system was kept:\n${errorText(error)}`;
    }
    this.#reloading = true;
    const old = this.#runtime;
    old.requestStop('reloading the config');
    await old.done;
    this.#reloading = false;
    if (this.#ending) return 'the session ended during the reload';
    this.#begin(spec);
    this.#publish();
    return undefined;
  }

  #begin(spec: SystemSpec): void {
    this.#spec = spec;
    this.#model = new DashboardModel(spec, ++this.#run, this.id);
    const model = this.#model;
    const runtime = this.#options.create(spec, {
      onEvent: (event) => model.onEvent(event),
      onBatch: (tick, agent, envelopes) => model.onBatch(tick, agent, envelopes),
      onRequests: (tick, requests) => model.onRequests(tick, requests),
    });
    this.#runtime = runtime;
    void runtime.start().then((summary) => {
      if (this.#runtime !== runtime || this.#reloading) return;
      this.#publish();
      clearInterval(this.#timer);
      this.#resolve(summary);
    });
  }

  #view() {
    const runtime = this.#runtime;
    const gpu = runtime.gpuStatus();
    return {
      tick: runtime.tick,
      paused: runtime.paused,
      agents: () => runtime.agents(),
      models: () => runtime.models(),
      latencies: () => runtime.gpuLatencies(),
      limits: (agent: string) => this.#spec.agents.find((spec) => spec.name === agent)?.limits,
      ...(gpu ? { gpu } : {}),
    };
  }

  /** Sends the next snapshot to every client; with `always`, advances the model even with none. */
  #publish(always = false): void {
    if (this.#listeners.size === 0 && !always) return;
    const snapshot = this.#model.snapshot(this.#view(), performance.now());
    for (const listener of this.#listeners) listener({ type: 'snapshot', snapshot });
  }
}
