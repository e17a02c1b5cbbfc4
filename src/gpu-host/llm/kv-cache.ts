// The KV cache of a continuous batch: per layer one key and one value tensor [rows, heads,
// length, headDim], rows left-padded to a common length. Rows join (padded to the batch's length,
// or the batch padded to theirs) and leave between steps; columns that are padding for every row
// are trimmed. Pure array work; the attention mask says which columns are real.

export interface CacheShape {
  layers: number;
  heads: number;
  headDim: number;
}

/** Per layer: [key, value], each rows × heads × length × headDim floats. */
export type LayerCache = Array<[Float32Array, Float32Array]>;

export class KvBatch {
  readonly shape: CacheShape;
  /** Real (non-padding) length of each row; the cache holds `length` columns, left-padded. */
  rowLengths: number[] = [];
  length = 0;
  cache: LayerCache = [];

  constructor(shape: CacheShape) {
    this.shape = shape;
  }

  get rows(): number {
    return this.rowLengths.length;
  }

  /**
   * Adds rows with their own cache: `rowLengths.length` rows of `width` columns, each row
   * left-padded within them to its real length.
   */
  join(rowCache: LayerCache, rowLengths: readonly number[], width: number): void {
    const length = Math.max(this.length, width);
    const joining = this.#pad(rowCache, rowLengths.length, width, length);
    if (this.rows === 0) {
      this.cache = joining;
    } else {
      const widened = this.#pad(this.cache, this.rows, this.length, length);
      this.cache = widened.map(([key, value], layer) => {
        const [newKey, newValue] = joining[layer] as [Float32Array, Float32Array];
        return [concat(key, newKey), concat(value, newValue)];
      });
    }
    this.length = length;
    this.rowLengths.push(...rowLengths);
  }

  /** The rows at `keep` of a cache of `rows` rows and `width` columns. */
  static pick(
    cache: LayerCache,
    shape: CacheShape,
    rows: number,
    width: number,
    keep: readonly number[],
  ): LayerCache {
    if (keep.length === rows) return cache;
    const rowSize = shape.heads * width * shape.headDim;
    const take = (tensor: Float32Array) => {
      const out = new Float32Array(keep.length * rowSize);
      keep.forEach((index, row) => {
        out.set(tensor.subarray(index * rowSize, (index + 1) * rowSize), row * rowSize);
      });
      return out;
    };
    return cache.map(([key, value]) => [take(key), take(value)]);
  }

  /** After a decode step: the step's present tensors (one column more) replace the cache. */
  advance(present: LayerCache): void {
    this.cache = present;
    this.length += 1;
    this.rowLengths = this.rowLengths.map((length) => length + 1);
  }

  /** Keeps only the rows at `keep` (in that order) and trims columns no row needs. */
  keep(keep: readonly number[]): void {
    const { heads, headDim } = this.shape;
    const lengths = keep.map((index) => this.rowLengths[index] as number);
    const length = Math.max(0, ...lengths);
    const drop = this.length - length;
    const rowSize = heads * this.length * headDim;
    const pick = (tensor: Float32Array) => {
      const out = new Float32Array(keep.length * heads * length * headDim);
      keep.forEach((index, row) => {
        for (let head = 0; head < heads; head++) {
          const from = index * rowSize + (head * this.length + drop) * headDim;
          out.set(tensor.subarray(from, from + length * headDim), (row * heads + head) * length * headDim);
        }
      });
      return out;
    };
    this.cache = this.cache.map(([key, value]) => [pick(key), pick(value)]);
    this.rowLengths = lengths;
    this.length = length;
  }

  /** The attention mask for the next step: [rows, length + 1], 0 on each row's left padding. */
  nextMask(): BigInt64Array {
    const width = this.length + 1;
    const mask = new BigInt64Array(this.rows * width);
    this.rowLengths.forEach((rowLength, row) => {
      mask.fill(1n, row * width + (this.length - rowLength), (row + 1) * width);
    });
    return mask;
  }

  /** Left-pads `rows` rows of a cache from `from` to `to` columns with zeros. */
  #pad(cache: LayerCache, rows: number, from: number, to: number): LayerCache {
    if (from === to) return cache;
    const { heads, headDim } = this.shape;
    const widen = (tensor: Float32Array) => {
      const out = new Float32Array(rows * heads * to * headDim);
      for (let block = 0; block < rows * heads; block++) {
        out.set(
          tensor.subarray(block * from * headDim, (block + 1) * from * headDim),
          (block * to + (to - from)) * headDim,
        );
      }
      return out;
    };
    return cache.map(([key, value]) => [widen(key), widen(value)]);
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
