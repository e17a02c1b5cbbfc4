// Writes the ONNX models the examples use, built in code (scripts/onnx-builder, compiled to dist/tools): nothing is downloaded.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMlp, writeTinyLlm } from '../dist/tools/onnx-builder/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const models = join(root, 'examples', 'inference', 'models');
mkdirSync(models, { recursive: true });
// 16 features, two hidden layers, 4 classes; weights from a fixed seed, so every build is the same.
writeFileSync(join(models, 'mlp.onnx'), buildMlp({ inputs: 16, hidden: [64, 64], outputs: 4, seed: 7 }));
// A tiny decoder with a trained byte-level BPE tokenizer, in the Hugging Face Optimum layout.
writeTinyLlm(join(root, 'examples', 'chat', 'model'), { seed: 11 });
