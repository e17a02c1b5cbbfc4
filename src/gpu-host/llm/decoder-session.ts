// A decoder's ONNX Runtime session as one step of the generation engine: feeds in the Optimum
// names, the cache back out per layer.
import ort from 'onnxruntime-node';
import type { DecoderMeta } from './decoder-meta.js';
import type { LayerCache } from './kv-cache.js';
import type { DecoderStep } from './llm-engine.js';

/** The decoder's ONNX session as one step of the engine. */
export function decoderStep(
  session: ort.InferenceSession,
  meta: DecoderMeta & { vocab: number },
): DecoderStep {
  const { layers, heads, headDim, vocab } = meta;
  return {
    layers,
    heads,
    headDim,
    vocab,
    run: async ({ ids, rows, length, mask, positions, past, pastLength }) => {
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', ids, [rows, length]),
        attention_mask: new ort.Tensor('int64', mask, [rows, pastLength + length]),
      };
      if (meta.positionIds) feeds.position_ids = new ort.Tensor('int64', positions, [rows, length]);
      for (let layer = 0; layer < layers; layer++) {
        const [key, value] = past[layer] as [Float32Array, Float32Array];
        feeds[`past_key_values.${layer}.key`] = new ort.Tensor('float32', key, [
          rows,
          heads,
          pastLength,
          headDim,
        ]);
        feeds[`past_key_values.${layer}.value`] = new ort.Tensor('float32', value, [
          rows,
          heads,
          pastLength,
          headDim,
        ]);
      }
      const results = await session.run(feeds);
      const logits = results.logits as ort.Tensor;
      // Only the last position of each row matters: [rows, length, vocab] → [rows, vocab] when decoding.
      const all = logits.data as Float32Array;
      const present: LayerCache = Array.from({ length: layers }, (_, layer) => [
        (results[`present.${layer}.key`] as ort.Tensor).data as Float32Array,
        (results[`present.${layer}.value`] as ort.Tensor).data as Float32Array,
      ]);
      return { logits: all, present };
    },
  };
}
