// One language model in the GPU host: its worker thread (folder, session, continuous batching) and
// the requests waiting for it to load. Events come back as streamed answers.
import { Worker } from 'node:worker_threads';
import type { ModelSpecWire } from '../protocol/index.js';
import type { ModelInfo } from './model-info.js';
import { type FromLlmWorker, type ProviderSkipped, type ToLlmWorker, workerSpec } from './worker-messages.js';

export interface LlmEvents {
  ready(entry: LlmEntry, ready: { provider: string; skipped: ProviderSkipped[]; loadMs: number }): void;
  failed(entry: LlmEntry, reason: string, skipped: ProviderSkipped[]): void;
  /** Everything the worker says about one generation. */
  generation(entry: LlmEntry, message: Exclude<FromLlmWorker, { type: 'ready' | 'failed' }>): void;
}

/** The worker's built file; bundlers that rename it say where it is. */
const workerEntry = () => process.env.TROUPE_LLM_WORKER ?? new URL('./llm/llm-worker.js', import.meta.url);

export class LlmEntry {
  readonly spec: ModelSpecWire;
  readonly name: string;
  readonly batchingOn = true;
  state: 'loading' | 'ready' | 'failed' = 'loading';
  info: ModelInfo | undefined;
  failure: string | undefined;
  held: Array<{ id: string; request: Uint8Array }> = [];
  readonly #worker: Worker;
  readonly #events: LlmEvents;
  /** Generations running, so a dying worker can fail each of them. */
  readonly #running = new Set<string>();

  constructor(spec: ModelSpecWire, events: LlmEvents) {
    this.spec = spec;
    this.name = spec.name ?? '';
    this.#events = events;
    this.#worker = new Worker(workerEntry());
    this.#worker.on('message', (message: FromLlmWorker) => this.#onMessage(message));
    this.#worker.on('error', (error) =>
      this.#onWorkerDied(`the model's worker thread failed: ${error.message}`),
    );
    this.#post({ type: 'load', maxRows: spec.batching?.maxBatch || 8, spec: workerSpec(spec) });
  }

  generate(id: string, request: Uint8Array): void {
    this.#running.add(id);
    this.#post({ type: 'generate', id, request });
  }

  cancel(id: string): void {
    if (this.#running.has(id)) this.#post({ type: 'cancel', id });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  #onMessage(message: FromLlmWorker): void {
    if (message.type === 'ready') {
      this.info = {
        name: this.name,
        inputs: message.inputs,
        outputs: message.outputs,
        maxRequestBytes: Number(this.spec.maxRequestBytes || 0),
      };
      this.state = 'ready';
      this.#events.ready(this, message);
    } else if (message.type === 'failed') {
      this.state = 'failed';
      this.failure = message.reason;
      this.#events.failed(this, message.reason, message.skipped);
    } else {
      if (message.type !== 'token') this.#running.delete(message.id);
      this.#events.generation(this, message);
    }
  }

  #onWorkerDied(reason: string): void {
    for (const id of this.#running)
      this.#events.generation(this, { type: 'gen-failed', id, code: 'RUN_FAILED', reason });
    this.#running.clear();
    this.state = 'failed';
    this.failure = reason;
    this.#events.failed(this, reason, []);
  }

  #post(message: ToLlmWorker): void {
    this.#worker.postMessage(message);
  }
}
