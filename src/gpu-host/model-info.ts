// What the GPU host knows of a loaded model: its inputs, outputs and limits.

/** A dimension: a fixed size, or the name of a dynamic one. */
export type ModelDim = number | string;

export interface TensorMeta {
  name: string;
  dtype: string;
  dims: readonly ModelDim[];
}

export interface ModelInfo {
  name: string;
  inputs: readonly TensorMeta[];
  outputs: readonly TensorMeta[];
  maxRequestBytes: number;
}

/** Dims as strings, as the wire carries them ("batch", "256"). */
export function dimsToWire(dims: readonly ModelDim[]): string[] {
  return dims.map(String);
}

/**
 * Why requests to this model cannot be stacked along the first dimension, or undefined when they
 * can: every input and output must start with the same dynamic dimension.
 */
export function batchingRefusal(model: ModelInfo): string | undefined {
  const all = [...model.inputs, ...model.outputs];
  const first = all[0]?.dims[0];
  if (typeof first !== 'string') return `"${all[0]?.name}" has no dynamic first dimension`;
  const odd = all.find((tensor) => tensor.dims[0] !== first);
  return odd ? `"${odd.name}" does not start with the dynamic dimension "${first}"` : undefined;
}
