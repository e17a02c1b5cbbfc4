// Choosing the next token from logits: greedy, or seeded sampling with temperature, top-k and
// top-p. Pure: the random stream is passed in, so the same seed gives the same text.

export interface SamplingOptions {
  /** 0: greedy. */
  temperature: number;
  /** 0: no top-k filter. */
  topK: number;
  /** 0 or 1: no nucleus filter. */
  topP: number;
}

export function sampleToken(logits: Float32Array, options: SamplingOptions, random: () => number): number {
  if (!(options.temperature > 0)) return argmax(logits);
  // Candidates by logit, highest first (ties by token id, so the order never depends on the sort).
  let candidates = Array.from(logits.keys()).sort(
    (a, b) => (logits[b] as number) - (logits[a] as number) || a - b,
  );
  if (options.topK > 0) candidates = candidates.slice(0, options.topK);
  const top = logits[candidates[0] as number] as number;
  let weights = candidates.map((token) => Math.exp(((logits[token] as number) - top) / options.temperature));
  if (options.topP > 0 && options.topP < 1) {
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let kept = 0;
    let mass = 0;
    while (kept < weights.length && mass < options.topP * total) mass += weights[kept++] as number;
    candidates = candidates.slice(0, Math.max(1, kept));
    weights = weights.slice(0, candidates.length);
  }
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let draw = random() * total;
  for (let i = 0; i < candidates.length; i++) {
    draw -= weights[i] as number;
    if (draw < 0) return candidates[i] as number;
  }
  return candidates[candidates.length - 1] as number;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** A seeded stream of floats in [0, 1) (SplitMix32-style); the seed is any 32-bit number. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from text (the request id, when the request gives none). */
export function seedOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619) >>> 0;
  return hash;
}
