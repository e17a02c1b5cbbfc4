// The KV cache of a continuous batch kept in place, for decoders that output the new tokens' keys
// and values alone: per layer one key and one value array [rows, heads, capacity, headDim], each
// row's columns from the left, the rest unused (masked). A decode step reads the arrays as they
// are and writes back one column per row, so nothing grows with the context but the capacity,
// which is raised in chunks. Rows join (their prefill's columns copied in) and leave (the rows
// after them moved down) between steps. Pure array work.
import type { CacheShape, LayerCache } from './kv-cache.js';

/** Columns the capacity grows by when a row reaches it. */
const GROW = 64;

export class KvSlab {
  readonly shape: CacheShape & { layers: number };
  /** Each row's length (its real columns, from the left). */
  rowLengths: number[] = [];
  /** Columns each row has room for; what a step is given as its past. */
  capacity = 0;
  cache: LayerCache = [];

  constructor(shape: CacheShape & { layers: number }) {
    this.shape = shape;
  }

  get rows(): number {
    return this.rowLengths.length;
  }

  /** The past a step reads: all of the capacity (unused columns are masked). */
  get length(): number {
    return this.capacity;
  }

  /** Adds rows from a prefill's cache: `rows` rows of `width` columns, each left-padded to its length. */
  join(rowCache: LayerCache, rowLengths: readonly number[], width: number): void {
    const lengths = [...this.rowLengths, ...rowLengths];
    const capacity = Math.max(this.capacity, roundUp(Math.max(...lengths) + 1));
    const { heads, headDim } = this.shape;
    const before = this.rows;
    this.cache =
      this.cache.length === 0
        ? this.#empty(lengths.length, capacity)
        : this.#resized(lengths.length, capacity);
    rowCache.forEach(([key, value], layer) => {
      const [slabKey, slabValue] = this.cache[layer] as [Float32Array, Float32Array];
      rowLengths.forEach((length, row) => {
        for (let head = 0; head < heads; head++) {
          const from = ((row * heads + head) * width + (width - length)) * headDim;
          const to = ((before + row) * heads + head) * capacity * headDim;
          slabKey.set(key.subarray(from, from + length * headDim), to);
          slabValue.set(value.subarray(from, from + length * headDim), to);
        }
      });
    });
    this.capacity = capacity;
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
      const [slabKey, slabValue] = this.cache[layer] as [Float32Array, Float32Array];
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
    if (longest >= this.capacity) {
      const capacity = roundUp(longest + 1);
      this.cache = this.#resized(this.rows, capacity);
      this.capacity = capacity;
    }
  }

  /** Keeps only the rows at `keep`, in that order. */
  keep(keep: readonly number[]): void {
    const { heads, headDim } = this.shape;
    const rowSize = heads * this.capacity * headDim;
    this.cache = this.cache.map(([key, value]) => {
      const pick = (tensor: Float32Array) => {
        const out = new Float32Array(keep.length * rowSize);
        keep.forEach((index, row) => {
          out.set(tensor.subarray(index * rowSize, (index + 1) * rowSize), row * rowSize);
        });
        return out;
      };
      return [pick(key), pick(value)] as [Float32Array, Float32Array];
    });
    this.rowLengths = keep.map((index) => this.rowLengths[index] as number);
  }

  #empty(rows: number, capacity: number): LayerCache {
    const { layers, heads, headDim } = this.shape;
    const size = rows * heads * capacity * headDim;
    return Array.from({ length: layers }, () => [new Float32Array(size), new Float32Array(size)]);
  }

  /** The cache with room for `rows` rows of `capacity` columns, the present rows copied over. */
  #resized(rows: number, capacity: number): LayerCache {
    const { heads, headDim } = this.shape;
    const fresh = this.#empty(rows, capacity);
    this.cache.forEach(([key, value], layer) => {
      const [newKey, newValue] = fresh[layer] as [Float32Array, Float32Array];
      for (let block = 0; block < this.rows * heads; block++) {
        const from = block * this.capacity * headDim;
        const to = block * capacity * headDim;
        newKey.set(key.subarray(from, from + this.capacity * headDim), to);
        newValue.set(value.subarray(from, from + this.capacity * headDim), to);
      }
    });
    return fresh;
  }
}

function roundUp(columns: number): number {
  return Math.ceil(columns / GROW) * GROW;
}
