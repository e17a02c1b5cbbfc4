// Deterministic random numbers for agents: a stream per (agent seed, tick) for init, and per
// (agent seed, message id) for each message handled, independent of restarts and retries.

/** 32-bit FNV-1a of a string: stable across machines and runs. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The seed of one agent's streams, from the system seed and the agent's name. */
export function agentSeed(systemSeed: number, agent: string): number {
  return hashString(`${systemSeed}/${agent}`);
}

/**
 * A generator of floats in [0, 1) for one tick (sfc32 with a mixed seed). Reseeding per tick makes
 * a retried batch see the same numbers as the first attempt.
 */
export function tickRandom(seed: number, tick: number): () => number {
  let a = mix(seed ^ 0x9e3779b9);
  let b = mix(tick ^ 0x85ebca6b);
  let c = mix((seed + tick) ^ 0xc2b2ae35);
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

function mix(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The stream one message's handling draws from: seeded by the message's id, so a retried message
 * sees the same numbers whatever tick or batch it is retried in.
 */
export function messageRandom(seed: number, messageId: string): () => number {
  return tickRandom(seed, hashString(messageId));
}
