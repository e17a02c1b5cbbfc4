// Between the tick loop and the GPU host: sends each tick's requests (holding them while a resume
// replays its journal), routes cancellations, and turns answers into inputs — at once in live
// mode, in request order at the next tick boundary in strict mode.
import {
  type Answer,
  type Envelope,
  encodeInferenceError,
  envelopeId,
  GENERATE_CANCEL_KIND,
  INFER_ERROR_KIND,
  INFER_RESULT_KIND,
  InferenceErrorCode,
  type Output,
} from '../../protocol/index.js';
import type { InferenceMode } from '../config/index.js';
import type { PendingRequest } from './pending-requests.js';
import { MODEL_PREFIX, RUNTIME } from './scheduler.js';

/** The GPU host as the router sees it: requests go in, answers come back through `answer`. */
export interface GpuPort {
  submit(requests: Array<{ id: string; model: string; request: Uint8Array }>): void;
  cancel(model: string, id: string): void;
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

  constructor(gpu: GpuPort | undefined, mode: InferenceMode, hooks: RouterHooks) {
    this.#gpu = gpu;
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
    if (!from.startsWith(MODEL_PREFIX)) return;
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

  #submit(envelopes: readonly Envelope[]): void {
    const requests: Envelope[] = [];
    for (const envelope of envelopes) {
      if (envelope.kind === GENERATE_CANCEL_KIND) this.#cancel(envelope);
      else requests.push(envelope);
    }
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

function modelOf(envelope: Envelope): string {
  return (envelope.to as string).slice(MODEL_PREFIX.length);
}
