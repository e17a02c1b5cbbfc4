// Worker thread entry for a language model: loads the model folder (checking every piece), probes
// providers, and runs the continuous-batching engine; the GPU host's main thread only forwards
// requests and streams the events back.
import { parentPort } from 'node:worker_threads';
import { Tokenizer } from '@huggingface/tokenizers';
import { decodeGenerateRequest, errorText } from '../../protocol/index.js';
import { openSession } from '../open-session.js';
import { StreamCoalescer, TOKEN_WINDOW_MS } from '../stream-coalescer.js';
import type { FromLlmWorker, ToLlmWorker, WorkerModelSpec } from '../worker-messages.js';
import { decoderMeta } from './decoder-meta.js';
import { decoderStep } from './decoder-session.js';
import { LlmEngine } from './llm-engine.js';
import { eosTokenIds, readLlmFolder } from './llm-folder.js';
import { type ChatCodec, textCodec } from './text-codec.js';

const port = parentPort;
if (!port) throw new Error('llm-worker.js runs as a worker thread of the GPU host');

// Messages go out in arrays: streamed tokens coalesced (stream-coalescer.ts), the rest at once.
const out = new StreamCoalescer<FromLlmWorker>(
  {
    send: (messages) => port.postMessage(messages),
    now: () => performance.now(),
    later: (run, ms) => setTimeout(run, ms),
  },
  TOKEN_WINDOW_MS,
);
const post = (message: FromLlmWorker) => out.now([message]);
let engine: LlmEngine | undefined;
let codec: ChatCodec | undefined;
let defaults = { maxNewTokens: 64, contextLength: 2048 };

port.on('message', (message: ToLlmWorker) => {
  if (message.type === 'load') void load(message.spec, message.maxRows);
  else if (message.type === 'cancel') engine?.cancel(message.id);
  else generate(message.id, message.request);
});

async function load(spec: WorkerModelSpec, maxRows: number): Promise<void> {
  const started = performance.now();
  let folder: ReturnType<typeof readLlmFolder>;
  let tokenizer: Tokenizer;
  try {
    folder = readLlmFolder(spec.path);
    tokenizer = new Tokenizer(folder.tokenizer, folder.tokenizerConfig);
  } catch (error) {
    post({ type: 'failed', reason: errorText(error), skipped: [] });
    return;
  }
  const opened = await openSession(folder.onnxPath, spec);
  if ('failed' in opened) {
    post({ type: 'failed', reason: `model folder ${spec.path}: ${opened.failed}`, skipped: opened.skipped });
    return;
  }
  const { session, provider, skipped, inputs, outputs } = opened;
  let meta: ReturnType<typeof decoderMeta>;
  try {
    meta = decoderMeta(inputs, outputs, folder.onnxPath);
  } catch (error) {
    post({ type: 'failed', reason: errorText(error), skipped });
    return;
  }
  const vocab = meta.vocab ?? Number(folder.config.vocab_size);
  if (!Number.isInteger(vocab) || vocab <= 0) {
    post({
      type: 'failed',
      reason: `model folder ${spec.path}: the vocabulary size is in neither the logits' shape nor config.json`,
      skipped: [],
    });
    return;
  }
  codec = textCodec(tokenizer, folder);
  defaults = {
    maxNewTokens: Number(folder.generation.max_new_tokens ?? 64) || 64,
    contextLength:
      Number(folder.config.max_position_embeddings ?? folder.tokenizerConfig.model_max_length ?? 2048) ||
      2048,
  };
  const decoder = decoderStep(session, { ...meta, vocab });
  engine = new LlmEngine(
    decoder,
    codec,
    {
      token: (id, index, tokenId, text) =>
        out.stream([{ type: 'token', id, index, tokenId, text }], index === 0),
      done: (id, result) =>
        post({
          type: 'done',
          id,
          ...result,
          step: engine?.steps ?? 0,
          rows: engine?.largestStep ?? 0,
          prefixCacheBytes: engine?.prefixStats?.bytes ?? 0,
        }),
      failed: (id, reason) => post({ type: 'gen-failed', id, code: 'RUN_FAILED', reason }),
    },
    { eos: eosTokenIds(folder), maxRows, prefixCache: spec.prefixCache },
  );
  post({
    type: 'ready',
    provider,
    skipped: skipped,
    inputs,
    outputs,
    loadMs: performance.now() - started,
  });
}

function generate(id: string, bytes: Uint8Array): void {
  const decoded = decodeGenerateRequest(bytes);
  if (!engine || !codec) {
    post({ type: 'gen-failed', id, code: 'RUN_FAILED', reason: 'the model is not loaded' });
    return;
  }
  if (!decoded.ok) {
    post({ type: 'gen-failed', id, code: 'BAD_REQUEST', reason: decoded.error });
    return;
  }
  const request = decoded.request;
  if (request.tools.length > 0) {
    const reason =
      'tool definitions need a model of type openai (a local model has no tool-calling format here)';
    post({ type: 'gen-failed', id, code: 'BAD_REQUEST', reason });
    return;
  }
  let promptIds: number[];
  try {
    const messages = request.messages.map((message) => ({
      role: message.role ?? '',
      content: message.content ?? '',
    }));
    const prompt = messages.length > 0 ? codec.chat(messages) : request.prompt;
    promptIds = codec.encode(prompt);
  } catch (error) {
    post({ type: 'gen-failed', id, code: 'BAD_REQUEST', reason: errorText(error) });
    return;
  }
  if (promptIds.length === 0) {
    post({ type: 'gen-failed', id, code: 'BAD_REQUEST', reason: 'the prompt is empty' });
    return;
  }
  const maxNewTokens = request.maxNewTokens || defaults.maxNewTokens;
  if (promptIds.length + maxNewTokens > defaults.contextLength) {
    const reason = `the prompt (${promptIds.length} tokens) and maxNewTokens (${maxNewTokens}) exceed the context of ${defaults.contextLength} tokens`;
    post({ type: 'gen-failed', id, code: 'TOO_LONG', reason });
    return;
  }
  engine.submit({
    id,
    promptIds,
    maxNewTokens,
    sampling: { temperature: request.temperature, topK: request.topK, topP: request.topP },
    seed: Number(request.seed) >>> 0,
    stopStrings: request.stop.filter((stop) => stop.length > 0),
    stopTokens: new Set(request.stopTokenIds.map(Number)),
  });
}
