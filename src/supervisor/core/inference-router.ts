// Between the tick loop and the hosts that answer requests (the GPU host for models, the tool host
// for tools): sends each tick's requests (holding them while a resume replays its journal), routes
// cancellations, and turns answers into inputs — at once in live mode, in request order at the
// next tick boundary in strict mode.
import {
  type Answer,
  type Envelope,
  encodeInferenceError,
  encodeToolError,
  envelopeId,
  GENERATE_CANCEL_KIND,
  INFER_ERROR_KIND,
  INFER_RESULT_KIND,
  InferenceErrorCode,
  type Output,
  TOOL_ERROR_KIND,
  TOOL_PREFIX,
  TOOL_RESULT_KIND,
} from '../../protocol/index.js';
import type { InferenceMode } from '../config/index.js';
import type { PendingRequest } from './pending-requests.js';
import { MODEL_PREFIX, RUNTIME } from './scheduler.js';
import type { ToolAnswer, ToolCall } from './tool-hosting.js';

/** The GPU host as the router sees it: requests go in, answers come back through `answer`. */
export interface GpuPort {
  submit(requests: Array<{ id: string; model: string; request: Uint8Array }>): void;
  cancel(model: string, id: string): void;
}

/** The tool host as the router sees it: calls go in, answers come back through `toolAnswer`. */
export interface ToolPort {
  call(calls: ToolCall[]): void;
}

export interface RouterHooks {
  /** An input from outside the tick: staged for the next boundary and journaled. */
  enter(from: string, output: Output): void;
  /** Whether the tick is part of a recording being replayed. */
  replaying(tick: number): boolean;
}

export class InferenceRouter {
  /** The GPU host; absent without models, or in a pure replay (answers come from the journal). */
  readonly #gpu: GpuPort | undefined;
  /** Requests submitted and not yet finally answered (each is answered exactly once). */
  #pending = 0;
  readonly #mode: InferenceMode;
  readonly #hooks: RouterHooks;
  /** Strict mode: answers waiting for the tick boundary. */
  #answers: Array<{ order: number; from: string; output: Output }> = [];
  /** Requests released during the replayed part of a resumed run, until the journal answers them. */
  readonly #replayRequests = new Map<string, Envelope>();
  /** Journaled answers staged before their request was released (see `route`). */
  readonly #replayAnswered = new Set<string>();
  /** The tool host; absent without tool servers, or in a pure replay. */
  readonly #tools: ToolPort | undefined;
  /** Submission order of the tool calls not yet answered (strict mode orders answers by it). */
  readonly #callOrder = new Map<string, number>();
  #calls = 0;

  constructor(
    gpu: GpuPort | undefined,
    mode: InferenceMode,
    hooks: RouterHooks,
    tools?: ToolPort | undefined,
  ) {
    this.#gpu = gpu;
    this.#tools = tools;
    this.#mode = mode;
    this.#hooks = hooks;
  }

  /** Whether answers are still owed: the loop must not call the system idle. */
  get owesAnswers(): boolean {
    return this.#pending > 0 || this.#answers.length > 0;
  }

  /** The requests a tick released. */
  route(tick: number, requests: readonly Envelope[]): void {
    if (!this.#hooks.replaying(tick)) {
      this.#submit(requests);
      return;
    }
    for (const envelope of requests) {
      const id = envelopeId(envelope);
      // A request released by a tick-less plan is answered "at" that same tick, so its journaled
      // answer can be staged before the request itself is released.
      if (!this.#replayAnswered.delete(id)) this.#replayRequests.set(id, envelope);
    }
  }

  /** A journaled input is being staged by the replay: an answer settles the request it answers. */
  replayed(from: string, output: Output): void {
    if (!from.startsWith(MODEL_PREFIX) && !from.startsWith(TOOL_PREFIX)) return;
    const id = output.correlationId ?? '';
    if (!this.#replayRequests.delete(id)) this.#replayAnswered.add(id);
  }

  /**
   * Before planning tick `next`. Past a resumed recording, the requests the journal left unanswered
   * are asked live (so in strict mode their answers enter at the tick they would have). In strict
   * mode, returns false while answers to earlier requests are outstanding; otherwise stages them,
   * in request order, and returns true.
   */
  beforeTick(next: number): boolean {
    if (this.#replayRequests.size > 0 && !this.#hooks.replaying(next)) {
      const held = [...this.#replayRequests.values()];
      this.#replayRequests.clear();
      this.#submit(held);
    }
    if (this.#mode !== 'strict') return true;
    if (this.#pending > 0) return false;
    const answers = this.#answers.sort((a, b) => a.order - b.order);
    this.#answers = [];
    for (const { from, output } of answers) this.#hooks.enter(from, output);
    return true;
  }

  /** A model answered (what GpuHosting returned for a frame of the GPU host, or its exit). */
  answer(request: PendingRequest, answer: Answer): void {
    if (!answer.partial) this.#pending--;
    const to = request.id.slice(0, request.id.lastIndexOf('#'));
    const correlationId = request.id;
    const output: Output = answer.error
      ? { to, kind: INFER_ERROR_KIND, payload: encodeInferenceError(answer.error), correlationId }
      : {
          to,
          kind: answer.kind || INFER_RESULT_KIND,
          payload: answer.result ?? new Uint8Array(0),
          correlationId,
        };
    const from = `${MODEL_PREFIX}${request.model}`;
    if (this.#mode === 'strict') this.#answers.push({ order: request.order, from, output });
    else this.#hooks.enter(from, output);
  }

  /** A tool answered a call (what ToolHosting returned for a frame of the tool host, or its exit). */
  toolAnswer({ call, result, error }: ToolAnswer): void {
    this.#pending--;
    const to = call.id.slice(0, call.id.lastIndexOf('#'));
    const correlationId = call.id;
    const output: Output = error
      ? { to, kind: TOOL_ERROR_KIND, payload: encodeToolError(error.code, error.message), correlationId }
      : { to, kind: TOOL_RESULT_KIND, payload: new TextEncoder().encode(result ?? ''), correlationId };
    const from = `${TOOL_PREFIX}${call.server}`;
    const order = this.#callOrder.get(call.id) ?? 0;
    this.#callOrder.delete(call.id);
    if (this.#mode === 'strict') this.#answers.push({ order, from, output });
    else this.#hooks.enter(from, output);
  }

  #submit(envelopes: readonly Envelope[]): void {
    const requests: Envelope[] = [];
    const calls: Envelope[] = [];
    for (const envelope of envelopes) {
      if (envelope.kind === GENERATE_CANCEL_KIND) this.#cancel(envelope);
      else if (envelope.to?.startsWith(TOOL_PREFIX)) calls.push(envelope);
      else requests.push(envelope);
    }
    this.#call(calls);
    if (requests.length === 0 || !this.#gpu) return;
    this.#pending += requests.length;
    this.#gpu.submit(
      requests.map((envelope) => ({
        id: envelopeId(envelope),
        model: modelOf(envelope),
        request: envelope.payload ?? new Uint8Array(0),
      })),
    );
  }

  /** Tool calls go to the tool host, in one frame. */
  #call(envelopes: readonly Envelope[]): void {
    if (envelopes.length === 0 || !this.#tools) return;
    this.#pending += envelopes.length;
    // Strict mode stages answers by order: the GPU host numbers models' requests from 0, so tool
    // calls are numbered apart, after them (the same inputs give the same order either way).
    for (const envelope of envelopes)
      this.#callOrder.set(envelopeId(envelope), TOOL_ORDER_BASE + this.#calls++);
    this.#tools.call(callsOf(envelopes));
  }

  /** An agent cancels one of its own generations (named by the correlation id). */
  #cancel(envelope: Envelope): void {
    const from = envelope.from ?? '';
    const target = envelope.correlationId ?? '';
    const model = modelOf(envelope);
    if (target.startsWith(`${from}#`)) {
      this.#gpu?.cancel(model, target);
      return;
    }
    const message = `"${from}" may cancel only its own generations (got "${target || 'no request id'}")`;
    const payload = encodeInferenceError({ model, input: '', code: InferenceErrorCode.BAD_REQUEST, message });
    this.#hooks.enter(RUNTIME, {
      to: from,
      kind: INFER_ERROR_KIND,
      payload,
      correlationId: envelopeId(envelope),
    });
  }
}

/** Where tool calls' numbers start (see #call). */
const TOOL_ORDER_BASE = 2 ** 40;

/** Envelopes to "@tool/<server>" as the tool host's calls. */
function callsOf(envelopes: readonly Envelope[]): ToolCall[] {
  return envelopes.map((envelope) => ({
    id: envelopeId(envelope),
    server: (envelope.to as string).slice(TOOL_PREFIX.length),
    payload: envelope.payload ?? new Uint8Array(0),
  }));
}

function modelOf(envelope: Envelope): string {
  return (envelope.to as string).slice(MODEL_PREFIX.length);
}
