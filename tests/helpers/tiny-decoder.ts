// A tiny decoder built in code and opened in a real ONNX Runtime session, as the generation
// engine's tests use it: the decoder step, its text codec and its folder. Sessions are released
// by releaseTinyDecoders() (afterAll).
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';
import { type TinyLlmOptions, writeTinyLlm } from '../../scripts/onnx-builder/index.js';
import {
  type DecoderMeta,
  type DecoderStep,
  decoderMeta,
  decoderStep,
  type Generation,
  type LlmFolder,
  readLlmFolder,
  textCodec,
} from '../../src/gpu-host/llm/index.js';
import { tempDir } from './system.js';

const sessions: ort.InferenceSession[] = [];

export interface TinyDecoder {
  step: DecoderStep;
  codec: ReturnType<typeof textCodec>;
  folder: LlmFolder;
  meta: DecoderMeta;
}

/** Writes a tiny decoder with `options` into a fresh folder and opens it (one intra-op thread). */
export async function openTinyDecoder(options: TinyLlmOptions = {}): Promise<TinyDecoder> {
  const dir = join(tempDir(), 'tiny');
  writeTinyLlm(dir, options);
  const folder = readLlmFolder(dir);
  const session = await ort.InferenceSession.create(folder.onnxPath, { intraOpNumThreads: 1 });
  sessions.push(session);
  const dims = (values: readonly ort.InferenceSession.ValueMetadata[]) =>
    values.map((value) => ({ name: value.name, dims: value.isTensor ? value.shape : [] }));
  const meta = decoderMeta(dims(session.inputMetadata), dims(session.outputMetadata), folder.onnxPath);
  const step = decoderStep(session, { ...meta, vocab: meta.vocab as number });
  const codec = textCodec(new Tokenizer(folder.tokenizer, folder.tokenizerConfig), folder);
  return { step, codec, folder, meta };
}

/** A greedy generation of `prompt` for the engine, `maxNewTokens` long unless `extra` says otherwise. */
export function greedyRequest(
  codec: TinyDecoder['codec'],
  id: string,
  prompt: string,
  maxNewTokens: number,
  extra: Partial<Generation> = {},
): Generation {
  return {
    id,
    promptIds: codec.encode(prompt),
    maxNewTokens,
    sampling: { temperature: 0, topK: 0, topP: 0 },
    seed: 0,
    stopStrings: [],
    stopTokens: new Set(),
    ...extra,
  };
}

/** The last position's logits for `ids` run from no past: what full recomputation reads. */
export async function lastLogits(step: DecoderStep, ids: readonly number[]): Promise<Float32Array> {
  const length = ids.length;
  const { logits } = await step.run({
    ids: BigInt64Array.from(ids.map(BigInt)),
    rows: 1,
    length,
    mask: new BigInt64Array(length).fill(1n),
    positions: BigInt64Array.from({ length }, (_, p) => BigInt(p)),
    past: Array.from({ length: step.layers }, () => [new Float32Array(0), new Float32Array(0)]),
    pastLength: 0,
  });
  return logits.slice((length - 1) * step.vocab, length * step.vocab);
}

export async function releaseTinyDecoders(): Promise<void> {
  await Promise.all(sessions.splice(0).map((session) => session.release()));
}
