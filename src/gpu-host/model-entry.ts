// One model in the GPU host: its worker thread, its state and its batching queue.
import type { ModelSpecWire } from '../protocol/index.js';
import { errorText } from '../protocol/index.js';
import { BatchQueue } from './batch-queue.js';
import { batchingRefusal } from './model-info.js';
import type { CheckedTensor } from './request-check.js';
import { type RawTensor, splitOutputs, stackInputs } from './stack.js';
import { WorkerEntry } from './worker-entry.js';
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

/**
 * Batches sent to the worker and not answered yet, at most: the second goes while the first runs,
 * and only when it is full, so under load the worker never waits for the host's main thread to
 * take its answers and send the next batch, and under light load a batch still waits to grow.
 */
const IN_FLIGHT = 2;

export class ModelEntry extends WorkerEntry<ToWorker, FromWorker> {
  readonly #events: ModelEvents;
  #queue: BatchQueue<Job>;
  /** Batches the worker holds, oldest first (it runs them in order). */
  #inFlight: Array<{ run: number; jobs: Job[] }> = [];
  #timer: NodeJS.Timeout | undefined;
  #runs = 0;
  #pumpQueued = false;

  constructor(spec: ModelSpecWire, events: ModelEvents) {
    super(spec, workerEntry());
    this.#events = events;
    this.#queue = new BatchQueue(this.#policy(false));
    this.post({ type: 'load', spec: workerSpec(spec) });
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

  override async close(): Promise<void> {
    clearTimeout(this.#timer);
    await super.close();
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
    while (this.state === 'ready' && this.#inFlight.length < IN_FLIGHT) {
      const take = this.#queue.take(performance.now(), this.#inFlight.length > 0);
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
      const run = ++this.#runs;
      this.#inFlight.push({ run, jobs: take.items });
      const inputs = stackInputs(take.items.map((job) => job.inputs));
      const outputs = take.items[0]?.outputs ?? [];
      this.post(
        { type: 'run', id: run, inputs, outputs },
        inputs.map((input) => input.data.buffer as ArrayBuffer),
      );
    }
  }

  protected receive(message: FromWorker): void {
    if (message.type === 'ready') {
      this.loaded(message, Number(this.spec.maxRequestBytes || DEFAULT_MAX_REQUEST_BYTES));
      this.#queue = new BatchQueue(this.#policy(this.batchingOn));
      this.#events.ready(this, message);
      this.#pump();
    } else if (message.type === 'failed') {
      this.#fail(message.reason, message.skipped);
    } else {
      const at = this.#inFlight.findIndex((batch) => batch.run === message.id);
      const jobs = at < 0 ? [] : (this.#inFlight.splice(at, 1)[0]?.jobs ?? []);
      // The next batch goes to the worker before this one's answers are taken apart and sent.
      this.#pump();
      if (message.type === 'ran') {
        let outputs: RawTensor[][];
        try {
          outputs = splitOutputs(
            message.outputs,
            jobs.map((job) => job.rows),
          );
        } catch (error) {
          this.#events.ran(this, jobs, { error: errorText(error) });
          return;
        }
        const rows = jobs.reduce((sum, job) => sum + job.rows, 0);
        this.#events.ran(this, jobs, { outputs, rows, run: message.id });
      } else {
        this.#events.ran(this, jobs, { error: message.reason });
      }
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

  protected workerDied(reason: string): void {
    const jobs = [...this.#inFlight.flatMap((batch) => batch.jobs), ...this.#queue.drain()];
    this.#inFlight = [];
    if (jobs.length > 0) this.#events.ran(this, jobs, { error: reason });
    this.#fail(reason, []);
  }

  #fail(reason: string, skipped: Array<{ provider: string; reason: string }>): void {
    this.unavailable(reason);
    this.#events.failed(this, reason, skipped);
  }
}
