// The GPU host as the core drives it, like an agent host: frames and exits come in, bytes go out.
// It owns the exactly-once table of requests in flight, the models' state and counters, and the
// interruption policy (a generation cut by the host's death ends with an error; a plain request
// is sent again to the next host). What its death comes to is decided by the supervision tree.
import type { ExitInfo } from '../../launch/index.js';
import {
  type Answer,
  decodeGenerateResult,
  decodeGpuFrame,
  encodeGpuFrame,
  GENERATE_DONE_KIND,
  type GpuEvent,
  generatesText,
  InferenceErrorCode,
  type ModelSpecWire,
} from '../../protocol/index.js';
import type { ModelSpec } from '../config/index.js';
import type { HostRef, TimerRef } from './core-io.js';
import type { ModelStatus } from './events.js';
import { describeExit } from './exit-reason.js';
import { type PendingRequest, PendingRequests } from './pending-requests.js';
import { type ServiceIo, ServiceLifecycle, type ServiceOutcome, type ServiceState } from './service-io.js';

/** How long a stopping GPU host has to exit before it is killed. */
export const GPU_STOP_TIMEOUT_MS = 5000;

/** `none`: this system runs no GPU host; `running` from its start (its models may still load). */
export type GpuState = ServiceState;

/** A model's answer to a request, for the inference router. */
export interface GpuAnswer {
  request: PendingRequest;
  answer: Answer;
}

/** Per model: final answers and their summed latency (submit to final answer, on the core's clock). */
export type GpuLatencies = Map<string, { answers: number; totalMs: number }>;

export class GpuHosting {
  readonly #models: readonly ModelSpec[];
  readonly #io: ServiceIo;
  readonly #life: ServiceLifecycle;
  readonly #pending = new PendingRequests();
  readonly #status = new Map<string, ModelStatus & { lastRun: number }>();
  /** When each request still unanswered was submitted. */
  readonly #sentAt = new Map<string, number>();
  readonly #latencies: GpuLatencies = new Map();

  /** `enabled`: whether a GPU host runs (none without models, or in a pure replay). */
  constructor(models: readonly ModelSpec[], enabled: boolean, io: ServiceIo) {
    this.#models = models;
    this.#io = io;
    this.#life = new ServiceLifecycle(enabled && models.length > 0, io, {
      spawn: (host, restarts) => this.#spawn(host, restarts),
      stopTimeoutMs: GPU_STOP_TIMEOUT_MS,
    });
    for (const { name } of models) this.#status.set(name, this.#loading(name));
  }

  get state(): GpuState {
    return this.#life.state;
  }

  /** Whether a GPU host runs in this system (it may be down right now). */
  get enabled(): boolean {
    return this.#life.enabled;
  }

  get host(): HostRef | undefined {
    return this.#life.host;
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Whether this host is the GPU host now (what an old one says is dropped). */
  owns(host: HostRef): boolean {
    return this.#life.owns(host);
  }

  /** Every declared model's state and counters, in declared order. */
  models(): ModelStatus[] {
    return [...this.#status.values()].map(({ lastRun: _, ...status }) => status);
  }

  /** Per model, final answers so far and their total latency (for the window's charts; nothing in the run reads it). */
  latencies(): GpuLatencies {
    return new Map([...this.#latencies].map(([model, latency]) => [model, { ...latency }]));
  }

  start(): void {
    this.#life.start();
  }

  /**
   * Sends requests, in one frame so that requests of one tick can share a batch; each is answered
   * exactly once.
   */
  submit(requests: ReadonlyArray<{ id: string; model: string; request: Uint8Array }>, now: number): void {
    for (const { id } of requests) this.#sentAt.set(id, now);
    this.#send(requests.map(({ id, model, request }) => this.#pending.add(id, model, request)));
  }

  /** Stops a generation early; its final answer says "cancelled". Unknown ids are ignored. */
  cancel(model: string, id: string): void {
    const host = this.#life.host;
    if (host === undefined || !this.#pending.get(id)) return;
    this.#io.push({
      type: 'send',
      host,
      bytes: encodeGpuFrame({ commands: [{ cancel: { id, model } }] }),
    });
  }

  /** Kills the GPU host as a crash would (replaying a recorded death). Whether there was one to kill. */
  kill(): boolean {
    return this.#life.kill();
  }

  /** Starts the GPU host again (the tree decided so): at once when it is down, else after killing it. */
  restart(): void {
    this.#life.restart();
  }

  /**
   * Ends the GPU host at shutdown; requests still waiting are dropped (no agent runs to read
   * them). Returns whether its exit is still to come.
   */
  stop(): boolean {
    const stop = { stop: { reason: 'the system is stopping' } };
    const waiting = this.#life.stop(encodeGpuFrame({ commands: [stop] }));
    if (!waiting) this.#pending.clear();
    return waiting;
  }

  /** Whether the timer is this part's (the stop timeout, which kills the host). */
  onTimer(timer: TimerRef): boolean {
    return this.#life.onTimer(timer);
  }

  /** A frame from the GPU host: the answers it holds, each request's final answer once. */
  onFrame(host: HostRef, bytes: unknown, now: number): GpuAnswer[] {
    if (!this.owns(host)) return [];
    const decoded = decodeGpuFrame(bytes);
    if (!decoded.ok) {
      this.#life.fault(host, 'gpu-host', decoded.error);
      return [];
    }
    return decoded.frame.events.flatMap((event) => this.#onEvent(event, now) ?? []);
  }

  /** The GPU host sent a frame above the launcher's bound: it is killed. */
  onOversize(host: HostRef, bytes: number, limit: number): void {
    if (!this.owns(host)) return;
    this.#io.emit({
      type: 'gpu.log',
      level: 'error',
      text: `sent a frame of ${bytes} bytes, above ${limit}`,
    });
    this.#io.push({ type: 'kill', host });
  }

  /**
   * The GPU host exited. A generation cannot resume where it was (its tokens were streamed): it
   * ends with an error the agent can act on (returned in `interrupted`). Plain requests are sent
   * again to the next host.
   */
  onExit(host: HostRef, info: ExitInfo, now: number): { outcome?: ServiceOutcome; interrupted: GpuAnswer[] } {
    if (!this.owns(host)) return { interrupted: [] };
    const exit = this.#life.exited();
    if (exit === 'stopped') {
      this.#pending.clear();
      return { outcome: { type: 'stopped' }, interrupted: [] };
    }
    const reason = describeExit(info, 'GPU host');
    const generations = this.#pending.all().filter((request) => this.#isLlm(request.model));
    const interrupted = generations.map((request) => this.#interrupt(request, reason, now));
    if (exit === 'restart') {
      this.#life.respawn();
      return { interrupted };
    }
    const { restarts } = this.#life;
    this.#io.emit({ type: 'gpu.crashed', reason, restarts, pending: this.#pending.size });
    return { outcome: { type: 'died', reason }, interrupted };
  }

  #spawn(host: HostRef, restarts: number): void {
    this.#io.push({ type: 'spawnGpu', host, restarts });
    for (const { name } of this.#models) this.#status.set(name, this.#loading(name));
    const models: ModelSpecWire[] = this.#models.map((model) => ({
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
      ...(model.prefixCache
        ? {
            prefixCacheOff: !model.prefixCache.enabled,
            prefixCacheBytes: model.prefixCache.maxBytes,
            prefixBlockTokens: model.prefixCache.blockTokens,
          }
        : {}),
      ...(model.remote
        ? {
            remote: {
              url: model.remote.url,
              model: model.remote.model,
              apiKeyEnv: model.remote.apiKeyEnv ?? '',
              timeoutMs: model.remote.timeoutMs,
            },
          }
        : {}),
    }));
    this.#io.push({ type: 'send', host, bytes: encodeGpuFrame({ commands: [{ load: { models } }] }) });
    // Requests the last host held go again; answers to them from the dead host are never counted.
    this.#send(this.#pending.all(), host);
  }

  #send(requests: readonly PendingRequest[], host = this.#life.host): void {
    if (host === undefined || requests.length === 0) return;
    const commands = requests.map(({ id, model, request }) => ({ infer: { id, model, request } }));
    this.#io.push({ type: 'send', host, bytes: encodeGpuFrame({ commands }) });
  }

  #onEvent(event: GpuEvent, now: number): GpuAnswer | undefined {
    if (event.answer) {
      const id = event.answer.id ?? '';
      // A streamed part (a generated token) leaves the request waiting for its final answer.
      const request = event.answer.partial ? this.#pending.get(id) : this.#pending.settle(id);
      if (!request) return undefined;
      if (!event.answer.partial) this.#count(request.model, event.answer, now);
      return { request, answer: event.answer };
    }
    if (event.ready) this.#ready(event.ready);
    else if (event.failed) this.#failed(event.failed);
    else if (event.log)
      this.#io.emit({
        type: 'gpu.log',
        level: event.log.level === 2 ? 'warn' : 'info',
        text: event.log.text ?? '',
      });
    return undefined;
  }

  #ready(ready: NonNullable<GpuEvent['ready']>): void {
    const { model, provider, loadMs, batching } = ready;
    const skipped = skips(ready.skipped);
    const status = this.#status.get(model ?? '');
    if (status) Object.assign(status, { state: 'ready', provider: provider ?? '', skipped });
    this.#io.emit({
      type: 'model.ready',
      model: model ?? '',
      provider: provider ?? '',
      skipped,
      inputs: (ready.inputs ?? []).map(describeTensor),
      outputs: (ready.outputs ?? []).map(describeTensor),
      loadMs: Math.round(loadMs ?? 0),
      batching: batching ?? false,
    });
  }

  #failed(failed: NonNullable<GpuEvent['failed']>): void {
    const skipped = skips(failed.skipped);
    const status = this.#status.get(failed.model ?? '');
    if (status) Object.assign(status, { state: 'failed', failure: failed.reason ?? '', skipped });
    this.#io.emit({ type: 'model.failed', model: failed.model ?? '', reason: failed.reason ?? '', skipped });
  }

  /** A model (re)loading: its state starts over, its counters go on across restarts. */
  #loading(name: string): ModelStatus & { lastRun: number } {
    const { answered = 0, errors = 0, runs = 0, largestBatch = 0, prompts } = this.#status.get(name) ?? {};
    return {
      name,
      state: 'loading',
      provider: '',
      skipped: [],
      answered,
      errors,
      runs,
      largestBatch,
      ...(prompts ? { prompts } : {}),
      lastRun: 0,
    };
  }

  #count(model: string, answer: Answer, now: number): void {
    const sentAt = this.#sentAt.get(answer.id ?? '');
    if (sentAt !== undefined) {
      this.#sentAt.delete(answer.id ?? '');
      const latency = this.#latencies.get(model) ?? { answers: 0, totalMs: 0 };
      latency.answers++;
      latency.totalMs += now - sentAt;
      this.#latencies.set(model, latency);
    }
    const status = this.#status.get(model);
    if (!status) return;
    if (answer.error) {
      status.errors++;
      return;
    }
    status.answered++;
    if (answer.kind === GENERATE_DONE_KIND) this.#generated(model, status, answer);
    status.largestBatch = Math.max(status.largestBatch, answer.batchRows ?? 0);
    if (answer.run !== status.lastRun) status.runs++;
    status.lastRun = answer.run ?? 0;
  }

  /** A generation's result: its prompt counts and the cache's bytes, and the event that reports them. */
  #generated(model: string, status: ModelStatus, answer: Answer): void {
    let result: ReturnType<typeof decodeGenerateResult>;
    try {
      result = decodeGenerateResult(answer.result ?? new Uint8Array(0));
    } catch {
      return; // Passed on to the agent as it is; its reader says what is wrong.
    }
    const prompts = status.prompts ?? { promptTokens: 0, cachedPromptTokens: 0, cacheBytes: 0 };
    prompts.promptTokens += result.promptTokens;
    prompts.cachedPromptTokens += result.cachedPromptTokens;
    prompts.cacheBytes = Number(answer.prefixCacheBytes ?? 0);
    status.prompts = prompts;
    this.#io.emit({
      type: 'generation.done',
      model,
      request: answer.id ?? '',
      promptTokens: result.promptTokens,
      cachedPromptTokens: result.cachedPromptTokens,
      generatedTokens: result.generatedTokens,
      stopReason: result.stopReason,
    });
  }

  #isLlm(model: string): boolean {
    return this.#models.some((spec) => spec.name === model && generatesText(spec.type));
  }

  #interrupt(request: PendingRequest, reason: string, now: number): GpuAnswer {
    this.#pending.settle(request.id);
    const { id, model } = request;
    const message = `model "${model}": the GPU host died during the generation (${reason}); send the request again`;
    const answer: Answer = {
      id,
      model,
      error: { model, input: '', code: InferenceErrorCode.INTERRUPTED, message },
    };
    this.#count(model, answer, now);
    return { request, answer };
  }
}

function skips(
  skipped: ReadonlyArray<{ provider?: string | null; reason?: string | null }> | null | undefined,
) {
  return (skipped ?? []).map((skip) => ({ provider: skip.provider ?? '', reason: skip.reason ?? '' }));
}

function describeTensor(tensor: {
  name?: string | null;
  dtype?: string | null;
  dims?: string[] | null;
}): string {
  return `${tensor.name ?? ''}: ${tensor.dtype ?? ''}[${(tensor.dims ?? []).join(', ')}]`;
}
