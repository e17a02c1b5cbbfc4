// Reads a language-model folder in the Hugging Face Optimum / transformers.js layout and checks it
// piece by piece; every problem names the folder and the missing or wrong piece.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorText } from '../../protocol/index.js';

export interface LlmFolder {
  dir: string;
  config: Record<string, unknown>;
  generation: Record<string, unknown>;
  tokenizer: object;
  tokenizerConfig: Record<string, unknown>;
  onnxPath: string;
}

const ONNX_NAMES = [
  'model.onnx',
  'model_quantized.onnx',
  'model_fp16.onnx',
  'model_int8.onnx',
  'model_q4.onnx',
];

export function readLlmFolder(dir: string): LlmFolder {
  const json = (name: string, what: string, required: boolean): Record<string, unknown> => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      if (!required) return {};
      throw new Error(`model folder ${dir}: ${name} is missing (${what})`);
    }
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`model folder ${dir}: ${name} is not valid JSON (${errorText(error)})`);
    }
  };
  const config = json('config.json', 'the model configuration', true);
  const tokenizer = json('tokenizer.json', 'the tokenizer', true);
  const tokenizerConfig = json('tokenizer_config.json', "the tokenizer's configuration", true);
  const generation = json('generation_config.json', 'generation defaults', false);
  const onnxDir = join(dir, 'onnx');
  const found = existsSync(onnxDir)
    ? readdirSync(onnxDir).filter((name) => /^model.*\.onnx$/.test(name))
    : [];
  const onnx = ONNX_NAMES.find((name) => found.includes(name)) ?? found.sort()[0];
  if (!onnx) throw new Error(`model folder ${dir}: onnx/model.onnx is missing (the decoder)`);
  return { dir, config, generation, tokenizer, tokenizerConfig, onnxPath: join(onnxDir, onnx) };
}

/** End-of-sequence token ids from generation_config.json, else config.json. */
export function eosTokenIds(folder: LlmFolder): number[] {
  const value = folder.generation.eos_token_id ?? folder.config.eos_token_id;
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(Number).filter(Number.isInteger);
}
