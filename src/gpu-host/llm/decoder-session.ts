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
    newColumns: meta.newColumns,
    run: async ({ ids, rows, length, mask, positions, past, pastLength, onlyAdded }) => {
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
      const cache = (prefix: string): LayerCache =>
        Array.from({ length: layers }, (_, layer) => [
          (results[`${prefix}.${layer}.key`] as ort.Tensor).data as Float32Array,
          (results[`${prefix}.${layer}.value`] as ort.Tensor).data as Float32Array,
        ]);
      // Fetching the whole cache back costs a copy of it at every step: with the new columns
      // alone, the caller keeps it in place.
      const added = onlyAdded && meta.newColumns;
      const fetches = added
        ? [
            'logits',
            ...Array.from({ length: layers }, (_, layer) => [
              `new_key_values.${layer}.key`,
              `new_key_values.${layer}.value`,
            ]).flat(),
          ]
        : undefined;
      const results = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
      // Only the last position of each row matters: [rows, length, vocab] → [rows, vocab] when decoding.
      const logits = (results.logits as ort.Tensor).data as Float32Array;
      return added
        ? { logits, present: [], added: cache('new_key_values') }
        : { logits, present: cache('present') };
    },
  };
}
