// One language model in the GPU host: its worker thread (folder, session, continuous batching) and
// the requests waiting for it to load. Events come back as streamed answers.
import type { ModelSpecWire } from '../protocol/index.js';
import { WorkerEntry } from './worker-entry.js';
import { type FromLlmWorker, type ProviderSkipped, type ToLlmWorker, workerSpec } from './worker-messages.js';

export interface LlmEvents {
  ready(entry: LlmEntry, ready: { provider: string; skipped: ProviderSkipped[]; loadMs: number }): void;
  failed(entry: LlmEntry, reason: string, skipped: ProviderSkipped[]): void;
  /** Everything the worker says about one generation. */
  generation(entry: LlmEntry, message: Exclude<FromLlmWorker, { type: 'ready' | 'failed' }>): void;
}

/** The worker's built file; bundlers that rename it say where it is. */
const workerEntry = () => process.env.TROUPE_LLM_WORKER ?? new URL('./llm/llm-worker.js', import.meta.url);

/** The worker sends its messages in arrays (its streamed tokens coalesced). */
export class LlmEntry extends WorkerEntry<ToLlmWorker, FromLlmWorker[]> {
  /** Continuous batching: always on. */
  readonly batchingOn = true;
  readonly #events: LlmEvents;
  /** Generations running, so a dying worker can fail each of them. */
  readonly #running = new Set<string>();

  constructor(spec: ModelSpecWire, events: LlmEvents) {
    super(spec, workerEntry());
    this.#events = events;
    this.post({ type: 'load', maxRows: spec.batching?.maxBatch || 8, spec: workerSpec(spec) });
  }

  generate(id: string, request: Uint8Array): void {
    this.#running.add(id);
    this.post({ type: 'generate', id, request });
  }

  cancel(id: string): void {
    if (this.#running.has(id)) this.post({ type: 'cancel', id });
  }

  protected receive(messages: FromLlmWorker[]): void {
    for (const message of messages) this.#receiveOne(message);
  }

  #receiveOne(message: FromLlmWorker): void {
    if (message.type === 'ready') {
      this.loaded(message, Number(this.spec.maxRequestBytes || 0));
      this.#events.ready(this, message);
    } else if (message.type === 'failed') {
      this.unavailable(message.reason);
      this.#events.failed(this, message.reason, message.skipped);
    } else {
      if (message.type !== 'token') this.#running.delete(message.id);
      this.#events.generation(this, message);
    }
  }

  protected workerDied(reason: string): void {
    for (const id of this.#running)
      this.#events.generation(this, { type: 'gen-failed', id, code: 'RUN_FAILED', reason });
    this.#running.clear();
    this.unavailable(reason);
    this.#events.failed(this, reason, []);
  }
}
