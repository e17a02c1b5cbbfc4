// Writes a complete language-model folder in the Hugging Face Optimum / transformers.js layout:
// config.json, generation_config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx.
// The weights are random (seeded), so the text is nonsense, but every piece is the real format.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDecoder, type DecoderShape } from './decoder.js';
import { trainTokenizer } from './tokenizer.js';

const CORPUS = `The supervisor watches every agent. When an agent crashes, the supervisor restarts it, and the
message that crashed it is tried again. Agents talk in envelopes; every envelope is delivered in
a fixed order, so a run can be repeated exactly. The writer drafts a short answer, the critic
points out what is wrong with it, and the moderator decides when the answer is good enough.
A model answers many agents at once: their requests share the work, and each gets its own reply.
Local models keep the data on the machine. Small steps, clear names, and tests that can fail.`;

export interface TinyLlmOptions {
  seed?: number;
  hidden?: number;
  heads?: number;
  /** Key/value heads (grouped-query attention); default `heads`. */
  kvHeads?: number;
  layers?: number;
  /** The MLP's inner width (default 2 × hidden), and whether it is SiLU-gated (Llama's). */
  intermediate?: number;
  gated?: boolean;
  merges?: number;
  /** Longest sequence it takes (default 512). */
  maxPositions?: number;
  /** Linear layers' weights in 4 or 8 bits (MatMulNBits); the same seed, the same weights before. */
  quantize?: 4 | 8;
  /** Also output the new tokens' keys and values alone (default true; false: plain Optimum). */
  newColumns?: boolean;
}

export function writeTinyLlm(dir: string, options: TinyLlmOptions = {}): { vocab: number; eos: number } {
  const files = trainTokenizer(CORPUS, options.merges ?? 120);
  const eos = files.specials['<|im_end|>'] as number;
  const bos = files.specials['<|im_start|>'] as number;
  const shape: DecoderShape = {
    vocab: files.vocabSize,
    hidden: options.hidden ?? 64,
    heads: options.heads ?? 4,
    layers: options.layers ?? 2,
    maxPositions: options.maxPositions ?? 512,
    seed: options.seed ?? 1,
    ...(options.kvHeads ? { kvHeads: options.kvHeads } : {}),
    ...(options.intermediate ? { intermediate: options.intermediate } : {}),
    ...(options.gated ? { gated: true } : {}),
    ...(options.quantize ? { quantize: options.quantize } : {}),
    ...(options.newColumns === false ? { newColumns: false } : {}),
  };
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const json = (name: string, value: object) =>
    writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', {
    architectures: ['TinyDecoderForCausalLM'],
    model_type: 'tiny-decoder',
    vocab_size: shape.vocab,
    hidden_size: shape.hidden,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads ?? shape.heads,
    intermediate_size: shape.intermediate ?? shape.hidden * 2,
    num_hidden_layers: shape.layers,
    max_position_embeddings: shape.maxPositions,
    bos_token_id: bos,
    eos_token_id: eos,
  });
  json('generation_config.json', { bos_token_id: bos, eos_token_id: [eos], max_new_tokens: 64 });
  json('tokenizer.json', files.tokenizer);
  json('tokenizer_config.json', files.config);
  writeFileSync(join(dir, 'onnx', 'model.onnx'), buildDecoder(shape));
  return { vocab: shape.vocab, eos };
}
