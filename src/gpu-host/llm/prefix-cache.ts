// The KV of prompt prefixes, shared across requests and agents (as vLLM's automatic prefix caching
// and SGLang's RadixAttention do): fixed-size blocks of token ids form a radix tree, each node
// holding the keys and values of its block for every layer. A prompt that starts with cached
// blocks is prefilled only past them. Bounded in bytes; the least recently used leaves go first.
// Pure array work: what to cache and reuse is decided here, the decoder runs elsewhere.
import type { CacheShape, LayerCache } from './kv-cache.js';

interface Block {
  /** The block's token ids, joined: its key among its parent's children. */
  key: string;
  parent: Block | undefined;
  children: Map<string, Block>;
  /** Per layer [key, value], each heads × blockTokens × headDim floats. */
  kv: LayerCache;
  lastUsed: number;
}

export interface PrefixCacheStats {
  /** Prompts looked up, and those that found at least one cached block. */
  lookups: number;
  hits: number;
  /** Prompt tokens looked up, and those found cached. */
  promptTokens: number;
  cachedTokens: number;
  /** Bytes of KV held, and blocks. */
  bytes: number;
  blocks: number;
  evicted: number;
}

export class PrefixCache {
  readonly blockTokens: number;
  readonly #shape: CacheShape & { layers: number };
  readonly #maxBytes: number;
  readonly #root: Block = { key: '', parent: undefined, children: new Map(), kv: [], lastUsed: 0 };
  #clock = 0;
  readonly stats: PrefixCacheStats = {
    lookups: 0,
    hits: 0,
    promptTokens: 0,
    cachedTokens: 0,
    bytes: 0,
    blocks: 0,
    evicted: 0,
  };

  constructor(shape: CacheShape & { layers: number }, options: { blockTokens: number; maxBytes: number }) {
    this.#shape = shape;
    this.blockTokens = Math.max(1, options.blockTokens);
    this.#maxBytes = options.maxBytes;
  }

  /** Bytes one block holds (keys and values of every layer). */
  get blockBytes(): number {
    const { layers, heads, headDim } = this.#shape;
    return layers * 2 * heads * this.blockTokens * headDim * 4;
  }

  /**
   * The cached blocks `ids` starts with, as a handle for `kvOf`; at least one token is always left
   * to prefill (its logits give the first generated token).
   */
  match(ids: readonly number[]): CachedPrefix {
    const most = Math.floor((ids.length - 1) / this.blockTokens);
    const blocks: Block[] = [];
    let node = this.#root;
    for (let index = 0; index < most; index++) {
      const child = node.children.get(this.#key(ids, index));
      if (!child) break;
      blocks.push(child);
      node = child;
    }
    return new CachedPrefix(blocks, this.blockTokens);
  }

  /** Counts a prompt's lookup and marks its blocks used (they are evicted last). */
  use(prefix: CachedPrefix, promptTokens: number): void {
    this.stats.lookups++;
    this.stats.promptTokens += promptTokens;
    if (prefix.tokens === 0) return;
    this.stats.hits++;
    this.stats.cachedTokens += prefix.tokens;
    const now = ++this.#clock;
    for (const block of prefix.blocks) block.lastUsed = now;
  }

  /** The prefix's keys and values for `rows` rows that all start with it: per layer [rows, heads, tokens, headDim]. */
  kvOf(prefix: CachedPrefix, rows = 1): LayerCache {
    const { layers, heads, headDim } = this.#shape;
    const block = this.blockTokens * headDim;
    const length = prefix.tokens * headDim;
    return Array.from({ length: layers }, (_, layer) => {
      const key = new Float32Array(rows * heads * length);
      const value = new Float32Array(rows * heads * length);
      prefix.blocks.forEach((cached, index) => {
        const [blockKey, blockValue] = cached.kv[layer] as [Float32Array, Float32Array];
        for (let head = 0; head < heads; head++) {
          const from = head * block;
          for (let row = 0; row < rows; row++) {
            const to = (row * heads + head) * length + index * block;
            key.set(blockKey.subarray(from, from + block), to);
            value.set(blockValue.subarray(from, from + block), to);
          }
        }
      });
      return [key, value] as [Float32Array, Float32Array];
    });
  }

  /**
   * Keeps the whole blocks of a prompt whose keys and values are known: row `row` of `cache`
   * ([rows, heads, width, headDim]), the prompt's tokens in its last `ids.length` columns. Blocks
   * already held are only marked used. Stops when the bound leaves no room.
   */
  insert(ids: readonly number[], cache: LayerCache, row: number, width: number): void {
    const whole = Math.floor(ids.length / this.blockTokens);
    const pad = width - ids.length;
    const now = ++this.#clock;
    let node = this.#root;
    for (let index = 0; index < whole; index++) {
      const key = this.#key(ids, index);
      let child = node.children.get(key);
      if (!child) {
        if (!this.#makeRoom(node)) return;
        child = {
          key,
          parent: node,
          children: new Map(),
          kv: this.#slice(cache, row, width, pad + index * this.blockTokens),
          lastUsed: now,
        };
        node.children.set(key, child);
        this.stats.blocks++;
        this.stats.bytes += this.blockBytes;
      }
      child.lastUsed = now;
      node = child;
    }
  }

  #key(ids: readonly number[], index: number): string {
    return ids.slice(index * this.blockTokens, (index + 1) * this.blockTokens).join(',');
  }

  /** One block's columns of one row, per layer [heads, blockTokens, headDim]. */
  #slice(cache: LayerCache, row: number, width: number, from: number): LayerCache {
    const { heads, headDim } = this.#shape;
    const size = this.blockTokens * headDim;
    return cache.map(([key, value]) => {
      const take = (tensor: Float32Array) => {
        const out = new Float32Array(heads * size);
        for (let head = 0; head < heads; head++) {
          const start = ((row * heads + head) * width + from) * headDim;
          out.set(tensor.subarray(start, start + size), head * size);
        }
        return out;
      };
      return [take(key), take(value)] as [Float32Array, Float32Array];
    });
  }

  /** Evicts least recently used leaves (never `keep` or its ancestors) until one more block fits. */
  #makeRoom(keep: Block): boolean {
    if (this.blockBytes > this.#maxBytes) return false;
    while (this.stats.bytes + this.blockBytes > this.#maxBytes) {
      const victim = this.#oldestLeaf(keep);
      if (!victim) return false;
      victim.parent?.children.delete(victim.key);
      this.stats.blocks--;
      this.stats.bytes -= this.blockBytes;
      this.stats.evicted++;
    }
    return true;
  }

  #oldestLeaf(keep: Block): Block | undefined {
    const protectedBlocks = new Set<Block>();
    for (let node: Block | undefined = keep; node; node = node.parent) protectedBlocks.add(node);
    let oldest: Block | undefined;
    const visit = (node: Block) => {
      for (const child of node.children.values()) {
        if (child.children.size > 0) visit(child);
        else if (!protectedBlocks.has(child) && (!oldest || child.lastUsed < oldest.lastUsed)) oldest = child;
      }
    };
    visit(this.#root);
    return oldest;
  }
}

/** The cached blocks a prompt starts with. */
export class CachedPrefix {
  readonly blocks: readonly Block[];
  readonly tokens: number;

  constructor(blocks: readonly Block[], blockTokens: number) {
    this.blocks = blocks;
    this.tokens = blocks.length * blockTokens;
  }

  /** The deepest block: prompts with the same one share the whole prefix. */
  get last(): object | undefined {
    return this.blocks.at(-1);
  }
}
