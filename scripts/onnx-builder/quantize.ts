// Weights quantized as ONNX Runtime's MatMulNBits takes them (the contrib operator ONNX Runtime
// GenAI's exports use on CPU): a [K, N] float matrix becomes, per output column, blocks of
// `blockSize` values along K, each stored in `bits` bits with one float scale (symmetric: the zero
// point is the default, 2^(bits-1)). Pure.

export interface QuantizedMatrix {
  /** [N, blocks, blockSize * bits / 8]: 4 bits two to a byte, the first in the low nibble. */
  data: Uint8Array;
  /** [N * blocks]. */
  scales: Float32Array;
  blocks: number;
}

export function quantizeBlocks(
  weights: Float32Array,
  k: number,
  n: number,
  bits: 4 | 8,
  blockSize: number,
): QuantizedMatrix {
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const data = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zero = 2 ** (bits - 1);
  const top = 2 ** bits - 1;
  for (let column = 0; column < n; column++) {
    for (let block = 0; block < blocks; block++) {
      const from = block * blockSize;
      const to = Math.min(k, from + blockSize);
      let largest = 0;
      for (let row = from; row < to; row++)
        largest = Math.max(largest, Math.abs(weights[row * n + column] as number));
      const scale = largest / (zero - 1) || 1;
      scales[column * blocks + block] = scale;
      const base = (column * blocks + block) * blob;
      for (let i = 0; i < blockSize; i++) {
        const row = from + i;
        const value = row < k ? (weights[row * n + column] as number) : 0;
        const q = Math.max(0, Math.min(top, Math.round(value / scale) + zero));
        if (bits === 8) data[base + i] = q;
        else data[base + (i >> 1)] = (data[base + (i >> 1)] as number) | (i & 1 ? q << 4 : q);
      }
    }
  }
  return { data, scales, blocks };
}
