// What every model in the GPU host has: a worker thread that owns its session, a load state, and
// the requests that wait for the load. Subclasses say what the worker is told and what it answers.
import { Worker } from 'node:worker_threads';
import type { ModelSpecWire } from '../protocol/index.js';
import type { ModelInfo } from './model-info.js';
import type { WorkerLoaded } from './worker-messages.js';

export abstract class WorkerEntry<To, From> {
  readonly spec: ModelSpecWire;
  readonly name: string;
  state: 'loading' | 'ready' | 'failed' = 'loading';
  info: ModelInfo | undefined;
  failure: string | undefined;
  /** Requests that came while the model was loading; taken up once it is ready or failed. */
  held: Array<{ id: string; request: Uint8Array }> = [];
  readonly #worker: Worker;

  /** `entry`: the worker's built file. */
  constructor(spec: ModelSpecWire, entry: string | URL) {
    this.spec = spec;
    this.name = spec.name ?? '';
    this.#worker = new Worker(entry);
    this.#worker.on('message', (message: From) => this.receive(message));
    this.#worker.on('error', (error) =>
      this.workerDied(`the model's worker thread failed: ${error.message}`),
    );
  }

  /** Whether requests from different agents share runs. */
  abstract get batchingOn(): boolean;

  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  protected abstract receive(message: From): void;

  protected abstract workerDied(reason: string): void;

  protected post(message: To, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer);
  }

  /** The worker loaded the model. */
  protected loaded(ready: Extract<WorkerLoaded, { type: 'ready' }>, maxRequestBytes: number): void {
    this.info = { name: this.name, inputs: ready.inputs, outputs: ready.outputs, maxRequestBytes };
    this.state = 'ready';
  }

  /** The model cannot serve (it did not load, or its worker died). */
  protected unavailable(reason: string): void {
    this.state = 'failed';
    this.failure = reason;
  }
}
