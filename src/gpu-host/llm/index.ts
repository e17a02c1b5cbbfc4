// Text generation in the GPU host: model folders, the decoder step, sampling, the KV batch and
// the continuous-batching engine (run in a worker thread by llm-worker.ts).
export { type DecoderMeta, decoderMeta } from './decoder-meta.js';
export { decoderStep } from './decoder-session.js';
export { KvBatch, type LayerCache } from './kv-cache.js';
export {
  type DecoderStep,
  type EngineEvents,
  type Generation,
  LlmEngine,
  type PrefixCacheOptions,
  type StopReason,
  type TextCodec,
} from './llm-engine.js';
export { eosTokenIds, type LlmFolder, readLlmFolder } from './llm-folder.js';
export { CachedPrefix, PrefixCache, type PrefixCacheStats } from './prefix-cache.js';
export { argmax, type SamplingOptions, sampleToken, seededRandom, seedOf } from './sampler.js';
export { type ChatCodec, textCodec } from './text-codec.js';
