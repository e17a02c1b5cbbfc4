// What a prefill run is given and what comes of it, when some rows start with a cached prefix:
// the inputs (each row's new tokens left-padded after the prefix), the run of whole blocks that
// requests arriving together share, and the padding moved left afterwards. Pure array work.
import type { CacheShape, LayerCache } from './kv-cache.js';
import type { Generation } from './llm-engine.js';
import type { PrefixCache } from './prefix-cache.js';

/**
 * The decoder's inputs for rows of new tokens after `cached` columns every row shares: ids and
 * positions [rows, newTokens], each row left-padded; the mask [rows, cached + newTokens].
 */
export function prefillInputs(suffixes: readonly number[][], cached: number) {
  const rows = suffixes.length;
  const suffixLengths = suffixes.map((ids) => ids.length);
  const newTokens = Math.max(...suffixLengths);
  const ids = new BigInt64Array(rows * newTokens);
  const mask = new BigInt64Array(rows * (cached + newTokens));
  const positions = new BigInt64Array(rows * newTokens);
  suffixes.forEach((suffix, row) => {
    const pad = newTokens - suffix.length;
    mask.fill(1n, row * (cached + newTokens), row * (cached + newTokens) + cached);
    suffix.forEach((token, i) => {
      ids[row * newTokens + pad + i] = BigInt(token);
      mask[row * (cached + newTokens) + cached + pad + i] = 1n;
      positions[row * newTokens + pad + i] = BigInt(cached + i);
    });
  });
  return { ids, mask, positions, suffixLengths, newTokens };
}

/** The longest run of whole blocks that two of the prompts start with and the cache lacks. */
export function sharedPrefix(cache: PrefixCache, generations: readonly Generation[]): number[] | undefined {
  const size = cache.blockTokens;
  let best: number[] | undefined;
  for (let i = 0; i < generations.length; i++) {
    const a = (generations[i] as Generation).promptIds;
    for (let j = i + 1; j < generations.length; j++) {
      const b = (generations[j] as Generation).promptIds;
      // Whole blocks only, and never a prompt's last token (its logits are the first token's).
      const most = Math.min(Math.floor((a.length - 1) / size), Math.floor((b.length - 1) / size)) * size;
      let same = 0;
      while (same < most && a[same] === b[same]) same++;
      const blocks = Math.floor(same / size) * size;
      if (blocks > (best?.length ?? 0) && blocks > cache.match(a.slice(0, blocks + 1)).tokens)
        best = a.slice(0, blocks);
    }
  }
  return best;
}

/**
 * After a run over a shared prefix and left-padded suffixes, each row's padding sits between its
 * prefix and its suffix: moves the prefix right, next to the suffix, so the padding is on the left.
 */
export function closeGaps(
  present: LayerCache,
  shape: CacheShape,
  suffixLengths: readonly number[],
  cached: number,
  newTokens: number,
): LayerCache {
  const { heads, headDim } = shape;
  const width = cached + newTokens;
  // In place: the run's output is this engine's, and fresh memory costs page faults.
  for (const tensors of present)
    for (const tensor of tensors)
      suffixLengths.forEach((length, row) => {
        const pad = newTokens - length;
        if (pad === 0) return;
        for (let head = 0; head < heads; head++) {
          const base = (row * heads + head) * width * headDim;
          tensor.copyWithin(base + pad * headDim, base, base + cached * headDim);
          tensor.fill(0, base, base + pad * headDim);
        }
      });
  return present;
}
