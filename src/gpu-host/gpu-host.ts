// The GPU host's main thread: takes commands from the supervisor, checks requests, queues them per
// model and answers. Sessions run in worker threads (model-entry.ts), so this thread stays free.
import {
  type Answer,
  decodeInferenceRequest,
  encodeGenerateResult,
  encodeGenerateToken,
  encodeInferenceResult,
  GENERATE_DONE_KIND,
  GENERATE_TOKEN_KIND,
  type GpuCommand,
  type GpuEvent,
  type InferenceError,
  InferenceErrorCode,
  type ModelSpecWire,
} from '../protocol/index.js';
import { LlmEntry } from './llm-entry.js';
import { type Job, ModelEntry, type RunResult } from './model-entry.js';
import { dimsToWire } from './model-info.js';
import { RemoteEntry } from './remote/index.js';
import { checkRequest } from './request-check.js';
import type { FromLlmWorker } from './worker-messages.js';

type GenerationMessage = Exclude<FromLlmWorker, { type: 'ready' | 'failed' }>;
/** A model that generates text: a local decoder in its worker, or a remote server. */
type Generating = LlmEntry | RemoteEntry;
type Served = ModelEntry | Generating;
/** A streamed token: a generation's first, or one after it. */
export type Streamed = 'first' | 'next';

export class GpuHost {
  readonly #models = new Map<string, Served>();
  readonly #emit: (events: GpuEvent[], streamed?: Streamed) => void;
  readonly #exit: () => void;

  /** `emit` is told which events are streamed tokens, and whether one is a generation's first. */
  constructor(emit: (events: GpuEvent[], streamed?: Streamed) => void, exit: () => void) {
    this.#emit = emit;
    this.#exit = exit;
  }

  handle(command: GpuCommand): void {
    if (command.load) {
      for (const spec of command.load.models ?? []) {
        const name = spec.name ?? '';
        if (this.#models.has(name)) continue;
        this.#log(`loading model "${name}" from ${spec.path}`);
        this.#models.set(name, this.#open(spec));
      }
    } else if (command.infer) {
      this.#infer(
        command.infer.id ?? '',
        command.infer.model ?? '',
        command.infer.request ?? new Uint8Array(0),
      );
    } else if (command.cancel) {
      const entry = this.#models.get(command.cancel.model ?? '');
      if (!(entry instanceof ModelEntry)) entry?.cancel(command.cancel.id ?? '');
    } else if (command.stop) {
      void Promise.all([...this.#models.values()].map((entry) => entry.close())).then(this.#exit);
    }
  }

  #open(spec: ModelSpecWire): Served {
    if (spec.kind === 'llm') return new LlmEntry(spec, this.#llmEvents);
    if (spec.kind === 'openai') return new RemoteEntry(spec, this.#llmEvents);
    return new ModelEntry(spec, this.#modelEvents);
  }

  #infer(id: string, model: string, request: Uint8Array): void {
    const entry = this.#models.get(model);
    if (!entry) {
      this.#answerError(id, model, InferenceErrorCode.UNKNOWN_MODEL, '', `no model "${model}" is loaded`);
    } else if (entry.state === 'loading') {
      entry.held.push({ id, request });
    } else if (entry.state === 'failed' || !entry.info) {
      const why = `model "${model}" is not available: ${entry.failure ?? 'it failed to load'}`;
      this.#answerError(id, model, InferenceErrorCode.MODEL_UNAVAILABLE, '', why);
    } else if (!(entry instanceof ModelEntry)) {
      entry.generate(id, request);
    } else {
      const decoded = decodeInferenceRequest(request);
      if (!decoded.ok) {
        this.#answerError(
          id,
          model,
          InferenceErrorCode.BAD_REQUEST,
          '',
          `model "${model}": ${decoded.error}`,
        );
        return;
      }
      const checked = checkRequest(entry.info, decoded.request);
      if (!checked.ok) {
        this.#emit([{ answer: { id, model, error: checked.error } }]);
        return;
      }
      const { inputs, outputs, rows, key } = checked;
      entry.enqueue({ id, inputs, outputs, rows, key });
    }
  }

  readonly #modelEvents = {
    ready: (
      entry: Served,
      ready: { provider: string; skipped: Array<{ provider: string; reason: string }>; loadMs: number },
    ) => {
      const info = entry.info;
      if (!info) return;
      const wire = (tensors: typeof info.inputs) =>
        tensors.map((tensor) => ({ name: tensor.name, dtype: tensor.dtype, dims: dimsToWire(tensor.dims) }));
      this.#emit([
        {
          ready: {
            model: entry.name,
            provider: ready.provider,
            skipped: ready.skipped,
            inputs: wire(info.inputs),
            outputs: wire(info.outputs),
            loadMs: ready.loadMs,
            batching: entry.batchingOn,
          },
        },
      ]);
      if (entry.spec.batching?.enabled && !entry.batchingOn) {
        this.#log(
          `batching is off for model "${entry.name}": its shapes do not stack along the first dimension`,
          2,
        );
      }
      this.#release(entry);
    },
    failed: (entry: Served, reason: string, skipped: Array<{ provider: string; reason: string }>) => {
      this.#emit([{ failed: { model: entry.name, reason, skipped } }]);
      this.#release(entry);
    },
    ran: (entry: ModelEntry, jobs: Job[], result: RunResult) => {
      const answers: Answer[] = jobs.map((job, index) => {
        if ('error' in result) {
          const error: InferenceError = {
            model: entry.name,
            input: '',
            code: InferenceErrorCode.RUN_FAILED,
            message: `model "${entry.name}" failed to run: ${result.error}`,
          };
          return { id: job.id, model: entry.name, error };
        }
        const outputs = result.outputs[index] ?? [];
        const payload = encodeInferenceResult({ model: entry.name, outputs });
        return { id: job.id, model: entry.name, result: payload, batchRows: result.rows, run: result.run };
      });
      this.#emit(answers.map((answer) => ({ answer })));
    },
  };

  readonly #llmEvents = {
    ready: this.#modelEvents.ready,
    failed: this.#modelEvents.failed,
    generation: (entry: Generating, message: GenerationMessage) => {
      const model = entry.name;
      if (message.type === 'token') {
        const result = encodeGenerateToken({
          index: message.index,
          tokenId: message.tokenId,
          text: message.text,
          request: message.id,
        });
        this.#emit(
          [{ answer: { id: message.id, model, result, kind: GENERATE_TOKEN_KIND, partial: true } }],
          message.index === 0 ? 'first' : 'next',
        );
      } else if (message.type === 'done') {
        const { text, promptTokens, tokenIds, stopReason, toolCalls = [] } = message;
        const result = encodeGenerateResult({
          model,
          text,
          promptTokens,
          generatedTokens: message.generatedTokens ?? tokenIds.length,
          stopReason,
          tokenIds,
          request: message.id,
          toolCalls,
          cachedPromptTokens: message.cachedPromptTokens ?? 0,
        });
        const answer = {
          id: message.id,
          model,
          result,
          kind: GENERATE_DONE_KIND,
          run: message.step,
          batchRows: message.rows,
          prefixCacheBytes: message.prefixCacheBytes ?? 0,
        };
        this.#emit([{ answer }]);
      } else {
        const code = InferenceErrorCode[message.code];
        this.#answerError(message.id, model, code, '', `model "${model}": ${message.reason}`);
      }
    },
  };

  /** Checks the requests that waited for the model to load. */
  #release(entry: Served): void {
    const held = entry.held;
    entry.held = [];
    for (const { id, request } of held) this.#infer(id, entry.name, request);
  }

  #answerError(id: string, model: string, code: InferenceErrorCode, input: string, message: string): void {
    this.#emit([{ answer: { id, model, error: { model, input, code, message } } }]);
  }

  #log(text: string, level = 1): void {
    this.#emit([{ log: { level, text } }]);
  }
}
