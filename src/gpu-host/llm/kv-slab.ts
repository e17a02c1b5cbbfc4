// The KV cache of a continuous batch kept in place, for decoders that output the new tokens' keys
// and values alone: per layer one key and one value array with room for `maxRows` rows of
// `capacity` columns ([maxRows, heads, capacity, headDim]), the running rows first, each row's
// columns from the left and the rest unused (masked). A decode step reads the running rows as
// they are and writes back one column per row. Rows join in the free rows after the running ones
// and leave by the later rows moving down, so neither touches the rest of the batch; only the
// capacity, raised in chunks when a row reaches it, means a copy. Pure array work.
import type { CacheShape, LayerCache } from './kv-cache.js';

/** Columns the capacity grows by when a row reaches it. */
const GROW = 64;

export class KvSlab {
  readonly shape: CacheShape & { layers: number };
  readonly #maxRows: number;
  /** Each running row's length (its real columns, from the left). */
  rowLengths: number[] = [];
  /** Columns each row has room for; what a step is given as its past. */
  capacity = 0;
  /** Per layer [key, value], room for every row. */
  #slab: LayerCache = [];

  constructor(shape: CacheShape & { layers: number }, maxRows: number) {
    this.shape = shape;
    this.#maxRows = Math.max(1, maxRows);
  }

  get rows(): number {
    return this.rowLengths.length;
  }

  /** The past a step reads: all of the capacity (unused columns are masked). */
  get length(): number {
    return this.capacity;
  }

  /** The running rows' cache, per layer [rows, heads, capacity, headDim]: views, not copies. */
  get cache(): LayerCache {
    const size = this.rows * this.#rowSize;
    return this.#slab.map(([key, value]) => [key.subarray(0, size), value.subarray(0, size)]);
  }

  /** Adds rows from a prefill's cache: `rows` rows of `width` columns, each left-padded to its length. */
  join(rowCache: LayerCache, rowLengths: readonly number[], width: number): void {
    const lengths = [...this.rowLengths, ...rowLengths];
    if (lengths.length > this.#maxRows)
      throw new Error(`the batch holds at most ${this.#maxRows} rows (${lengths.length} asked)`);
    const needed = roundUp(Math.max(...lengths) + 1);
    if (needed > this.capacity) this.#grow(needed);
    const { heads, headDim } = this.shape;
    const before = this.rows;
    rowCache.forEach(([key, value], layer) => {
      const [slabKey, slabValue] = this.#slab[layer] as [Float32Array, Float32Array];
      rowLengths.forEach((length, row) => {
        for (let head = 0; head < heads; head++) {
          const from = ((row * heads + head) * width + (width - length)) * headDim;
          const to = ((before + row) * heads + head) * this.capacity * headDim;
          slabKey.set(key.subarray(from, from + length * headDim), to);
          slabValue.set(value.subarray(from, from + length * headDim), to);
        }
      });
    });
    this.rowLengths = lengths;
  }

  /** The mask for the next step: [rows, capacity + 1], each row's columns and the new one. */
  nextMask(): BigInt64Array {
    const width = this.capacity + 1;
    const mask = new BigInt64Array(this.rows * width);
    this.rowLengths.forEach((length, row) => {
      mask.fill(1n, row * width, row * width + length);
      mask[row * width + this.capacity] = 1n;
    });
    return mask;
  }

  /** After a step: each row's new column (per layer [rows, heads, 1, headDim]) written in place. */
  append(added: LayerCache): void {
    const { heads, headDim } = this.shape;
    added.forEach(([key, value], layer) => {
      const [slabKey, slabValue] = this.#slab[layer] as [Float32Array, Float32Array];
      this.rowLengths.forEach((length, row) => {
        for (let head = 0; head < heads; head++) {
          const from = (row * heads + head) * headDim;
          const to = ((row * heads + head) * this.capacity + length) * headDim;
          slabKey.set(key.subarray(from, from + headDim), to);
          slabValue.set(value.subarray(from, from + headDim), to);
        }
      });
    });
    this.rowLengths = this.rowLengths.map((length) => length + 1);
    // The next step writes one column further: make room while no step runs.
    const longest = Math.max(0, ...this.rowLengths);
    if (longest >= this.capacity) this.#grow(roundUp(longest + 1));
  }

  /** Keeps only the rows at `keep` (increasing), moving each down into the place of those that left. */
  keep(keep: readonly number[]): void {
    const size = this.#rowSize;
    for (const [key, value] of this.#slab)
      keep.forEach((index, row) => {
        if (index === row) return;
        key.copyWithin(row * size, index * size, (index + 1) * size);
        value.copyWithin(row * size, index * size, (index + 1) * size);
      });
    this.rowLengths = keep.map((index) => this.rowLengths[index] as number);
  }

  get #rowSize(): number {
    return this.shape.heads * this.capacity * this.shape.headDim;
  }

  /** Room for `capacity` columns a row: a new slab, the running rows' columns copied over. */
  #grow(capacity: number): void {
    const { layers, heads, headDim } = this.shape;
    const size = this.#maxRows * heads * capacity * headDim;
    const slab: LayerCache = Array.from({ length: layers }, () => [
      new Float32Array(size),
      new Float32Array(size),
    ]);
    this.#slab.forEach(([key, value], layer) => {
      const [newKey, newValue] = slab[layer] as [Float32Array, Float32Array];
      for (let block = 0; block < this.rows * heads; block++) {
        const from = block * this.capacity * headDim;
        const to = block * capacity * headDim;
        newKey.set(key.subarray(from, from + this.capacity * headDim), to);
        newValue.set(value.subarray(from, from + this.capacity * headDim), to);
      }
    });
    this.#slab = slab;
    this.capacity = capacity;
  }
}

function roundUp(columns: number): number {
  return Math.ceil(columns / GROW) * GROW;
}
