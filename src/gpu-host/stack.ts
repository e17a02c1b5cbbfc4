// Stacking requests along the first dimension and splitting the outputs back, byte for byte.
import type { CheckedTensor } from './request-check.js';

export interface RawTensor {
  name: string;
  dtype: string;
  dims: number[];
  data: Uint8Array;
}

/** One tensor per input: the requests' tensors concatenated in request order (row-major). */
export function stackInputs(requests: ReadonlyArray<readonly CheckedTensor[]>): RawTensor[] {
  const first = requests[0] ?? [];
  return first.map((input, index) => {
    const parts = requests.map((inputs) => inputs[index] as CheckedTensor);
    const rows = parts.reduce((sum, part) => sum + (part.dims[0] ?? 0), 0);
    const data = new Uint8Array(parts.reduce((sum, part) => sum + part.data.length, 0));
    let offset = 0;
    for (const part of parts) {
      data.set(part.data, offset);
      offset += part.data.length;
    }
    return { name: input.name, dtype: input.dtype, dims: [rows, ...input.dims.slice(1)], data };
  });
}

/** Splits each output back into one per request, by the rows each request brought. */
export function splitOutputs(outputs: readonly RawTensor[], rows: readonly number[]): RawTensor[][] {
  const total = rows.reduce((sum, count) => sum + count, 0);
  const split: RawTensor[][] = rows.map(() => []);
  for (const output of outputs) {
    if (output.dims[0] !== total) {
      throw new Error(`output "${output.name}" has ${output.dims[0]} rows for a batch of ${total}`);
    }
    const rowBytes = total === 0 ? 0 : output.data.length / total;
    let offset = 0;
    rows.forEach((count, index) => {
      const data = output.data.slice(offset, offset + count * rowBytes);
      offset += count * rowBytes;
      split[index]?.push({
        name: output.name,
        dtype: output.dtype,
        dims: [count, ...output.dims.slice(1)],
        data,
      });
    });
  }
  return split;
}
