// One model in the GPU host: its worker thread, its state and its batching queue.
import { Worker } from 'node:worker_threads';
import type { ModelSpecWire } from '../protocol/index.js';
import { BatchQueue } from './batch-queue.js';
import { batchingRefusal, type ModelInfo } from './model-info.js';
import type { CheckedTensor } from './request-check.js';
import { type RawTensor, splitOutputs, stackInputs } from './stack.js';
import { type FromWorker, type ToWorker, workerSpec } from './worker-messages.js';

/** A checked request waiting for (or in) a run. */
export interface Job {
  id: string;
  inputs: CheckedTensor[];
  outputs: string[];
  rows: number;
  /** Jobs with equal keys can share a batch (request-check.ts). */
  key: string;
}

export interface ModelEvents {
  ready(entry: ModelEntry, message: Extract<FromWorker, { type: 'ready' }>): void;
  failed(entry: ModelEntry, reason: string, skipped: Array<{ provider: string; reason: string }>): void;
  /** A batch ran: each job's outputs, or the reason the run failed. */
  ran(entry: ModelEntry, jobs: Job[], result: RunResult): void;
}

/** A batch's outputs, split per job, with the run's number; or why the run failed. */
export type RunResult = { outputs: RawTensor[][]; rows: number; run: number } | { error: string };

/** The worker's built file; bundlers that rename it (the desktop app's Vite build) say where it is. */
const workerEntry = () => process.env.TROUPE_MODEL_WORKER ?? new URL('./model-worker.js', import.meta.url);

const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export class ModelEntry {
  readonly spec: ModelSpecWire;
  readonly name: string;
  state: 'loading' | 'ready' | 'failed' = 'loading';
  info: ModelInfo | undefined;
  failure: string | undefined;
  /** Requests that came while the model was loading; checked once it is ready. */
  held: Array<{ id: string; request: Uint8Array }> = [];
  readonly #worker: Worker;
  readonly #events: ModelEvents;
  #queue: BatchQueue<Job>;
  #running: Job[] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #runs = 0;
  #pumpQueued = false;

  constructor(spec: ModelSpecWire, events: ModelEvents) {
    this.spec = spec;
    this.name = spec.name ?? '';
    this.#events = events;
    this.#queue = new BatchQueue(this.#policy(false));
    this.#worker = new Worker(workerEntry());
    this.#worker.on('message', (message: FromWorker) => this.#onMessage(message));
    this.#worker.on('error', (error) =>
      this.#onWorkerDied(`the model's worker thread failed: ${error.message}`),
    );
    this.#post({ type: 'load', spec: workerSpec(spec) });
  }

  get queued(): number {
    return this.#queue.length;
  }

  enqueue(job: Job): void {
    this.#queue.push(job, job.rows, job.key, performance.now());
    // Requests of one frame are all queued before the batch is taken, even with no queue delay.
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#worker.terminate();
  }

  #policy(enabled: boolean) {
    const batching = this.spec.batching ?? {};
    return {
      enabled,
      maxBatch: batching.maxBatch || 8,
      maxQueueDelayMs: (batching.maxQueueDelayUs ?? 0) / 1000,
    };
  }

  #pump(): void {
    if (this.#running || this.state !== 'ready') return;
    const take = this.#queue.take(performance.now());
    if (!take) return;
    if ('waitMs' in take) {
      if (!this.#timer) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, take.waitMs);
      }
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = take.items;
    const inputs = stackInputs(take.items.map((job) => job.inputs));
    const outputs = take.items[0]?.outputs ?? [];
    this.#post(
      { type: 'run', id: ++this.#runs, inputs, outputs },
      inputs.map((input) => input.data.buffer as ArrayBuffer),
    );
  }

  #onMessage(message: FromWorker): void {
    if (message.type === 'ready') {
      this.info = {
        name: this.name,
        inputs: message.inputs,
        outputs: message.outputs,
        maxRequestBytes: Number(this.spec.maxRequestBytes || DEFAULT_MAX_REQUEST_BYTES),
      };
      this.state = 'ready';
      this.#queue = new BatchQueue(this.#policy(this.batchingOn));
      this.#events.ready(this, message);
      this.#pump();
    } else if (message.type === 'failed') {
      this.#fail(message.reason, message.skipped);
    } else {
      const jobs = this.#running ?? [];
      this.#running = undefined;
      if (message.type === 'ran') {
        let outputs: RawTensor[][];
        try {
          outputs = splitOutputs(
            message.outputs,
            jobs.map((job) => job.rows),
          );
        } catch (error) {
          this.#events.ran(this, jobs, { error: (error as Error).message });
          this.#pump();
          return;
        }
        const rows = jobs.reduce((sum, job) => sum + job.rows, 0);
        this.#events.ran(this, jobs, { outputs, rows, run: message.id });
      } else {
        this.#events.ran(this, jobs, { error: message.reason });
      }
      this.#pump();
    }
  }

  /** Batching as configured, unless the model's shapes make stacking impossible. */
  get batchingOn(): boolean {
    return (
      (this.spec.batching?.enabled ?? false) &&
      this.info !== undefined &&
      batchingRefusal(this.info) === undefined
    );
  }

  #onWorkerDied(reason: string): void {
    const jobs = [...(this.#running ?? []), ...this.#queue.drain()];
    this.#running = undefined;
    if (jobs.length > 0) this.#events.ran(this, jobs, { error: reason });
    this.#fail(reason, []);
  }

  #fail(reason: string, skipped: Array<{ provider: string; reason: string }>): void {
    this.state = 'failed';
    this.failure = reason;
    this.#events.failed(this, reason, skipped);
  }

  #post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer);
  }
}
