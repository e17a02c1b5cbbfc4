export { buildDecoder, type DecoderShape } from './decoder.js';
export {
  buildModel,
  type Dim,
  ELEMENT_TYPES,
  type ElementName,
  type GraphSpec,
  type NodeSpec,
  type ValueSpec,
} from './graph.js';
export { buildMlp, type MlpShape, mulberry32 } from './mlp.js';
export { type QuantizedMatrix, quantizeBlocks } from './quantize.js';
export { type TinyLlmOptions, writeTinyLlm } from './tiny-llm.js';
export { bytesToUnicode, CHAT_TEMPLATE, SPECIAL_TOKENS, trainTokenizer } from './tokenizer.js';
