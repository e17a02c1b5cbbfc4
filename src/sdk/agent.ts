// defineAgent: an agent is its initial state, an optional init, and one handler per message kind.
// Handlers run one message at a time, in the deterministic order of docs/architecture.md; what
// they send is delivered at the next tick. Nothing here reads a clock or a real random source.
import { OutputBuffer, readBatch } from './blocks.js';
import { AGENT_GLOBAL, type AgentEntry, CONTROL_INDEX, type HostBridge, hostBridge } from './host-bridge.js';
import {
  type ChatMessage,
  encodeGenerateRequest,
  encodeInferRequest,
  GENERATE,
  GENERATE_CANCEL,
  type GenerateOptions,
  INFER,
  type TensorInput,
} from './inference.js';
import { Message } from './message.js';
import { Data, type Payload, toBytes } from './payload.js';
import { TOOL_CALL } from './tools.js';

/** Message kinds and the JSON each carries, e.g. `{ add: number; get: null }`. */
export type MessageMap = Record<string, unknown>;

export interface SendOptions {
  /** The id of the message this one answers. */
  correlationId?: string;
  /** Deliver it this many ticks later than the next tick (0, the default: at the next tick). */
  delayTicks?: number;
}

export interface Context<S> {
  /** This agent's name (its address). */
  readonly self: string;
  /** Logical time: the tick being handled. `Date.now()` reads it too (1,000 ms per tick). */
  readonly tick: number;
  /** The agent's state; change it in place or replace it. It is kept in snapshots. */
  state: S;
  /** Sends a message (delivered next tick); returns its id. Payloads: text, bytes, or JSON. */
  send(to: string, kind: string, payload?: Payload, options?: SendOptions): string;
  /**
   * A timer: `kind` comes back to this agent at tick `ctx.tick + ticks` (1: the next tick), with
   * `payload`. Needs the agent itself in its capabilities.sendTo. Returns the message's id.
   */
  after(ticks: number, kind: string, payload?: Payload): string;
  /** Answers a message: to its sender, with its id as the correlation id. */
  reply(to: Message, kind: string, payload?: Payload): string;
  /** Asks a model for an answer; returns the request id the answer's `correlationId` will hold. */
  infer(model: string, inputs: Record<string, TensorInput>, outputs?: readonly string[]): string;
  /** Asks a language model for text; tokens and the result carry the returned request id. */
  generate(model: string, prompt: string | readonly ChatMessage[], options?: GenerateOptions): string;
  /** Stops one of this agent's generations. */
  cancelGeneration(model: string, request: string): void;
  /**
   * Calls a tool of an MCP server declared in the system file (the agent needs it in
   * capabilities.tools); returns the call's id, which the answer's `correlationId` will hold
   * (TOOL_RESULT, or TOOL_ERROR: read them with readToolResult and readToolError).
   */
  callTool(server: string, tool: string, args?: Record<string, unknown>): string;
  debug(text: string): void;
  log(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** A float in [0, 1) from the agent's seeded stream (`Math.random()` is the same stream). */
  random(): number;
  /** Ends the agent normally after this message (the rest of its batch goes back to the mailbox). */
  finish(): void;
}

export type Handler<S, T> = (message: Message<T>, ctx: Context<S>) => void;

export interface AgentDefinition<S, M extends MessageMap> {
  /** The initial state (copied per instance through JSON when it is not a function). */
  state?: S | (() => S);
  /** Runs once when the agent starts, with its init data (the system file's `init`). */
  init?: (ctx: Context<S>, data: Data) => void;
  /**
   * One handler per message kind: the kinds of `M` with their payload types, and any other kind
   * (the runtime's, such as GENERATE_DONE) with payloads read by the SDK's readers.
   */
  // biome-ignore lint/suspicious/noExplicitAny: other kinds' handlers must accept every typed one too
  on?: { [K in keyof M]?: Handler<S, M[K]> } & { [kind: string]: Handler<S, any> | undefined };
  /** For kinds with no handler in `on` (without it, such messages are logged and dropped). */
  otherwise?: Handler<S, unknown>;
}

export interface Agent<S, M extends MessageMap> {
  readonly definition: AgentDefinition<S, M>;
}

export function defineAgent<S = undefined, M extends MessageMap = MessageMap>(
  definition: AgentDefinition<S, M>,
): Agent<S, M> {
  const scope = globalThis as Record<string, unknown>;
  if (scope[AGENT_GLOBAL]) throw new Error('defineAgent was called twice: a module defines one agent');
  const host = hostBridge();
  const run = new AgentRun(definition, host);
  const entry: AgentEntry = {
    init: (self, tick, nextSeq, data) => run.init(self, tick, nextSeq, data),
    handle: (self, tick, nextSeq, batch, count) => run.handleBatch(self, tick, nextSeq, batch, count),
  };
  Object.defineProperty(scope, AGENT_GLOBAL, { value: Object.freeze(entry), enumerable: false });
  return Object.freeze({ definition });
}

function initialState<S>(state: AgentDefinition<S, MessageMap>['state']): S {
  if (typeof state === 'function') return (state as () => S)();
  return state === undefined ? (undefined as S) : (JSON.parse(JSON.stringify(state)) as S);
}

class AgentRun<S, M extends MessageMap> implements Context<S> {
  self = '';
  tick = 0;
  state: S;
  #finished = false;
  #nextSeq = 1;
  readonly #outputs = new OutputBuffer();
  readonly #control: Int32Array;
  readonly #definition: AgentDefinition<S, M>;
  readonly #host: HostBridge;

  constructor(definition: AgentDefinition<S, M>, host: HostBridge) {
    this.#definition = definition;
    this.#host = host;
    this.state = initialState(definition.state);
    this.#control = host.control;
  }

  init(self: string, tick: number, nextSeq: number, data: ArrayBuffer): void {
    this.#enter(self, tick, nextSeq);
    this.#control[CONTROL_INDEX] = -1;
    this.#definition.init?.(this, new Data(new Uint8Array(data)));
    this.#flush();
  }

  handleBatch(self: string, tick: number, nextSeq: number, batch: ArrayBuffer, count: number): number {
    this.#enter(self, tick, nextSeq);
    const handlers = (this.#definition.on ?? {}) as Record<string, Handler<S, unknown> | undefined>;
    const bytes = new Uint8Array(batch);
    const control = this.#control;
    control[CONTROL_INDEX] = -1;
    const handled = readBatch(bytes, count, (index, kind, payload, spans) => {
      control[CONTROL_INDEX] = index;
      const message = new Message(kind, payload, bytes, spans);
      const handler = Object.hasOwn(handlers, kind) ? handlers[kind] : this.#definition.otherwise;
      if (handler) handler(message, this);
      else this.warn(`no handler for a message of kind "${kind}" from ${message.from}; dropped`);
      this.#flush();
      return !this.#finished;
    });
    return handled * 2 + (this.#finished ? 1 : 0);
  }

  send(to: string, kind: string, payload?: Payload, options: SendOptions = {}): string {
    const delay = options.delayTicks ?? 0;
    if (!Number.isInteger(delay) || delay < 0)
      throw new RangeError(`delayTicks must be a whole number ≥ 0 (got ${delay})`);
    this.#outputs.add(String(to), String(kind), String(options.correlationId ?? ''), toBytes(payload), delay);
    return `${this.self}#${this.#nextSeq++}`;
  }

  after(ticks: number, kind: string, payload?: Payload): string {
    if (!Number.isInteger(ticks) || ticks < 1)
      throw new RangeError(`after: ticks must be a whole number ≥ 1 (got ${ticks})`);
    return this.send(this.self, kind, payload, { delayTicks: ticks - 1 });
  }

  #enter(self: string, tick: number, nextSeq: number): void {
    this.self = self;
    this.tick = tick;
    this.#nextSeq = nextSeq;
    this.#finished = false;
  }

  #flush(): void {
    const outputs = this.#outputs.take();
    if (outputs) this.#host.flush(outputs);
  }

  reply(to: Message, kind: string, payload?: Payload): string {
    return this.send(to.from, kind, payload, { correlationId: to.id });
  }

  infer(model: string, inputs: Record<string, TensorInput>, outputs: readonly string[] = []): string {
    return this.send(`@gpu/${model}`, INFER, encodeInferRequest(inputs, outputs));
  }

  generate(model: string, prompt: string | readonly ChatMessage[], options?: GenerateOptions): string {
    return this.send(`@gpu/${model}`, GENERATE, encodeGenerateRequest(prompt, options));
  }

  cancelGeneration(model: string, request: string): void {
    this.send(`@gpu/${model}`, GENERATE_CANCEL, undefined, { correlationId: request });
  }

  callTool(server: string, tool: string, args: Record<string, unknown> = {}): string {
    return this.send(`@tool/${server}`, TOOL_CALL, { tool, arguments: args });
  }

  debug(text: string): void {
    this.#host.log(0, String(text));
  }

  log(text: string): void {
    this.#host.log(1, String(text));
  }

  warn(text: string): void {
    this.#host.log(2, String(text));
  }

  error(text: string): void {
    this.#host.log(3, String(text));
  }

  random(): number {
    return this.#host.random();
  }

  finish(): void {
    this.#finished = true;
  }
}
