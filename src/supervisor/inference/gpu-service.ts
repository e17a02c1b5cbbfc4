// The supervisor's side of the GPU host: starts it, reports its death to the supervision tree
// (which decides the restart, as for any child), restarts it when told (sending the requests it
// held again), and turns its answers into exactly one reply per request.
import { fileURLToPath } from 'node:url';
import type { ExitInfo, HostProcess, Launcher } from '../../launch/index.js';
import {
  type Answer,
  decodeGpuFrame,
  encodeGpuFrame,
  type GpuEvent,
  InferenceErrorCode,
  type ModelSpecWire,
} from '../../protocol/index.js';
import type { ModelSpec } from '../config/index.js';
import {
  describeExit,
  type ModelStatus,
  type PendingRequest,
  PendingRequests,
  type RuntimeEvent,
} from '../core/index.js';

export interface GpuServiceOptions {
  launcher: Launcher;
  /** Where the GPU host runs when not here (a cluster node), asked at every (re)start. */
  remote?: () => Launcher | undefined;
  /** Built GPU host entry. Default: dist/gpu-host/gpu-host-main.js beside this module. */
  entry?: string | undefined;
  models: readonly ModelSpec[];
  /** Timers (the runtime's clock): the stop timeout. */
  clock: { setTimeout(callback: () => void, ms: number): () => void };
  env?: Record<string, string>;
  onAnswer: (request: PendingRequest, answer: Answer) => void;
  /** The GPU host died (not stopped by us): the supervision tree decides what happens next. */
  onExit: (reason: string) => void;
  onEvent: (event: RuntimeEvent) => void;
}

/** dist/gpu-host/gpu-host-main.js beside this module (a function: bundles that have no import.meta pass `entry`). */
const defaultGpuEntry = () => fileURLToPath(new URL('../../gpu-host/gpu-host-main.js', import.meta.url));
const STOP_TIMEOUT_MS = 5000;

export type GpuState = 'starting' | 'running' | 'crashed' | 'restarting' | 'stopping' | 'stopped';

export class GpuService {
  readonly #options: GpuServiceOptions;
  readonly #pending = new PendingRequests();
  #host: HostProcess | undefined;
  #state: GpuState = 'stopped';
  #restarts = 0;
  /** Killed to be restarted (a restart decided while it was alive): start again on its exit. */
  #restartOnExit = false;
  #stopped: (() => void) | undefined;
  readonly #status = new Map<string, ModelStatus & { lastRun: number }>();
  /** When each request still unanswered was submitted, and latencies not yet taken. */
  readonly #sentAt = new Map<string, number>();
  #latencies = new Map<string, { answers: number; totalMs: number }>();

  constructor(options: GpuServiceOptions) {
    this.#options = options;
    for (const { name } of options.models) this.#status.set(name, this.#loading(name));
  }

  /** A model (re)loading: its state starts over, its counters go on across restarts. */
  #loading(name: string): ModelStatus & { lastRun: number } {
    const { answered = 0, errors = 0, runs = 0, largestBatch = 0 } = this.#status.get(name) ?? {};
    return {
      name,
      state: 'loading',
      provider: '',
      skipped: [],
      answered,
      errors,
      runs,
      largestBatch,
      lastRun: 0,
    };
  }

  /** Every declared model's state and counters, in declared order. */
  models(): ModelStatus[] {
    return [...this.#status.values()].map(({ lastRun: _, ...status }) => status);
  }

  get state(): GpuState {
    return this.#state;
  }

  get pending(): number {
    return this.#pending.size;
  }

  get pid(): number | undefined {
    return this.#host?.pid;
  }

  start(): void {
    this.#spawn();
  }

  /** Kills the GPU host as a crash would (replaying a recorded death); its exit is reported. */
  kill(): void {
    this.#host?.kill();
  }

  /** Starts the GPU host again (the tree decided so): at once when it is down, else after killing it. */
  restart(): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#restarts++;
    if (this.#host) {
      this.#restartOnExit = true;
      this.#host.kill();
    } else {
      this.#spawn();
    }
  }

  /**
   * Sends requests (envelopes to "@gpu/<model>"), in one frame so that requests of one tick can
   * share a batch; each answer comes through onAnswer exactly once.
   */
  submit(requests: ReadonlyArray<{ id: string; model: string; request: Uint8Array }>): void {
    const now = performance.now();
    for (const { id } of requests) this.#sentAt.set(id, now);
    this.#send(requests.map(({ id, model, request }) => this.#pending.add(id, model, request)));
  }

  /**
   * Per model, answers since the last call and their total latency (submit to final answer, wall
   * clock, for the window's charts; nothing in the run reads it). Resets the counts.
   */
  takeLatencies(): Map<string, { answers: number; totalMs: number }> {
    const taken = this.#latencies;
    this.#latencies = new Map();
    return taken;
  }

  /** Stops a generation early; its final answer says "cancelled". Unknown ids are ignored. */
  cancel(model: string, id: string): void {
    if (this.#pending.get(id)) this.#host?.send(encodeGpuFrame({ commands: [{ cancel: { id, model } }] }));
  }

  /** Ends the GPU host. Requests still waiting are dropped: no agent runs to read them. */
  stop(): Promise<void> {
    const host = this.#host;
    if (!host) {
      this.#state = 'stopped';
      this.#pending.clear();
      return Promise.resolve();
    }
    this.#state = 'stopping';
    return new Promise((resolve) => {
      const cancel = this.#options.clock.setTimeout(() => host.kill(), STOP_TIMEOUT_MS);
      this.#stopped = () => {
        cancel();
        resolve();
      };
      host.send(encodeGpuFrame({ commands: [{ stop: { reason: 'the system is stopping' } }] }));
    });
  }

  #spawn(): void {
    const remote = this.#options.remote?.();
    const host = (remote ?? this.#options.launcher).spawn({
      entry: this.#options.entry ?? defaultGpuEntry(),
      name: 'gpu-host',
      env: this.#options.env,
      gpu: true,
      // The GPU host reads its own code and the declared models' files, nothing else.
      readPaths: this.#options.models.map((model) => model.path),
    });
    this.#host = host;
    this.#state = this.#restarts > 0 ? 'restarting' : 'starting';
    host.onFrame((bytes) => this.#onFrame(host, bytes));
    host.onOversize((bytes, limit) => {
      this.#options.onEvent({
        type: 'gpu.log',
        level: 'error',
        text: `sent a frame of ${bytes} bytes, above ${limit}`,
      });
      host.kill();
    });
    host.onExit((info) => this.#onExit(host, info));
    const node = (remote as { node?: string } | undefined)?.node;
    this.#options.onEvent({
      type: 'gpu.spawned',
      pid: host.pid,
      restarts: this.#restarts,
      ...(node ? { node } : {}),
    });
    for (const { name } of this.#options.models) this.#status.set(name, this.#loading(name));
    const models: ModelSpecWire[] = this.#options.models.map((model) => ({
      name: model.name,
      path: model.path,
      providers: [...model.providers],
      intraOpThreads: model.intraOpThreads,
      interOpThreads: model.interOpThreads,
      batching: {
        enabled: model.batching.enabled,
        maxBatch: model.batching.maxBatch,
        maxQueueDelayUs: Math.round(model.batching.maxQueueDelayMs * 1000),
      },
      warmup: model.warmup,
      maxRequestBytes: model.maxRequestBytes,
      kind: model.type,
    }));
    host.send(encodeGpuFrame({ commands: [{ load: { models } }] }));
    // Requests the last host held go again; answers to them from the dead host are never counted.
    this.#send(this.#pending.all());
    this.#state = 'running';
  }

  #count(model: string, answer: Answer): void {
    const sentAt = this.#sentAt.get(answer.id ?? '');
    if (sentAt !== undefined) {
      this.#sentAt.delete(answer.id ?? '');
      const latency = this.#latencies.get(model) ?? { answers: 0, totalMs: 0 };
      latency.answers++;
      latency.totalMs += performance.now() - sentAt;
      this.#latencies.set(model, latency);
    }
    const status = this.#status.get(model);
    if (!status) return;
    if (answer.error) {
      status.errors++;
      return;
    }
    status.answered++;
    status.largestBatch = Math.max(status.largestBatch, answer.batchRows ?? 0);
    if (answer.run !== status.lastRun) status.runs++;
    status.lastRun = answer.run ?? 0;
  }

  #send(requests: readonly PendingRequest[]): void {
    if (!this.#host || requests.length === 0) return;
    const commands = requests.map(({ id, model, request }) => ({ infer: { id, model, request } }));
    this.#host.send(encodeGpuFrame({ commands }));
  }

  #onFrame(host: HostProcess, bytes: unknown): void {
    if (host !== this.#host) return;
    const decoded = decodeGpuFrame(bytes);
    if (!decoded.ok) {
      this.#options.onEvent({ type: 'frame.rejected', agent: 'gpu-host', reason: decoded.error });
      host.kill();
      return;
    }
    for (const event of decoded.frame.events) this.#onEvent(event);
  }

  #onEvent(event: GpuEvent): void {
    const emit = this.#options.onEvent;
    if (event.answer) {
      const id = event.answer.id ?? '';
      // A streamed part (a generated token) leaves the request waiting for its final answer.
      const request = event.answer.partial ? this.#pending.get(id) : this.#pending.settle(id);
      if (!request) return;
      if (event.answer.partial) {
        this.#options.onAnswer(request, event.answer);
        return;
      }
      this.#count(request.model, event.answer);
      this.#options.onAnswer(request, event.answer);
    } else if (event.ready) {
      const { model, provider, skipped, loadMs, batching } = event.ready;
      const status = this.#status.get(model ?? '');
      if (status) {
        status.state = 'ready';
        status.provider = provider ?? '';
        status.skipped = (skipped ?? []).map((skip) => ({
          provider: skip.provider ?? '',
          reason: skip.reason ?? '',
        }));
      }
      emit({
        type: 'model.ready',
        model: model ?? '',
        provider: provider ?? '',
        skipped: (skipped ?? []).map((skip) => ({
          provider: skip.provider ?? '',
          reason: skip.reason ?? '',
        })),
        inputs: (event.ready.inputs ?? []).map(describeTensor),
        outputs: (event.ready.outputs ?? []).map(describeTensor),
        loadMs: Math.round(loadMs ?? 0),
        batching: batching ?? false,
      });
    } else if (event.failed) {
      const skipped = (event.failed.skipped ?? []).map((skip) => ({
        provider: skip.provider ?? '',
        reason: skip.reason ?? '',
      }));
      const status = this.#status.get(event.failed.model ?? '');
      if (status) Object.assign(status, { state: 'failed', failure: event.failed.reason ?? '', skipped });
      emit({
        type: 'model.failed',
        model: event.failed.model ?? '',
        reason: event.failed.reason ?? '',
        skipped,
      });
    } else if (event.log) {
      emit({ type: 'gpu.log', level: event.log.level === 2 ? 'warn' : 'info', text: event.log.text ?? '' });
    }
  }

  #onExit(host: HostProcess, info: ExitInfo): void {
    if (host !== this.#host) return;
    this.#host = undefined;
    if (this.#state === 'stopping') {
      this.#state = 'stopped';
      this.#pending.clear();
      this.#stopped?.();
      return;
    }
    const reason = describeExit(info, 'GPU host');
    // A generation cannot resume where it was (its tokens were streamed): it ends with an error the
    // agent can act on. Plain requests are sent again to the next host.
    const generations = this.#pending.all().filter((request) => this.#isLlm(request.model));
    for (const request of generations) this.#pending.settle(request.id);
    this.#interrupt(generations, reason);
    if (this.#restartOnExit) {
      this.#restartOnExit = false;
      this.#spawn();
      return;
    }
    this.#state = 'crashed';
    this.#options.onEvent({
      type: 'gpu.crashed',
      reason,
      restarts: this.#restarts,
      pending: this.#pending.size,
    });
    this.#options.onExit(reason);
  }

  #isLlm(model: string): boolean {
    return this.#options.models.some((spec) => spec.name === model && spec.type === 'llm');
  }

  #interrupt(requests: readonly PendingRequest[], reason: string): void {
    for (const request of requests) {
      const { id, model } = request;
      const message = `model "${model}": the GPU host died during the generation (${reason}); send the request again`;
      const error = { model, input: '', code: InferenceErrorCode.INTERRUPTED, message };
      this.#count(model, { id, model, error });
      this.#options.onAnswer(request, { id, model, error });
    }
  }
}

function describeTensor(tensor: {
  name?: string | null;
  dtype?: string | null;
  dims?: string[] | null;
}): string {
  return `${tensor.name ?? ''}: ${tensor.dtype ?? ''}[${(tensor.dims ?? []).join(', ')}]`;
}
