// Element types of tensors on the wire, and their typed arrays.

type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export type TypedArray = InstanceType<TypedArrayConstructor>;

export const DTYPES: Readonly<Record<string, { bytes: number; array: TypedArrayConstructor }>> = {
  float32: { bytes: 4, array: Float32Array },
  float64: { bytes: 8, array: Float64Array },
  int8: { bytes: 1, array: Int8Array },
  uint8: { bytes: 1, array: Uint8Array },
  int16: { bytes: 2, array: Int16Array },
  uint16: { bytes: 2, array: Uint16Array },
  int32: { bytes: 4, array: Int32Array },
  uint32: { bytes: 4, array: Uint32Array },
  int64: { bytes: 8, array: BigInt64Array },
  uint64: { bytes: 8, array: BigUint64Array },
  bool: { bytes: 1, array: Uint8Array },
};

/**
 * Copies tensor bytes into a fresh, aligned, unshared buffer and views it with the dtype's typed
 * array (ONNX Runtime refuses SharedArrayBuffer-backed and misaligned data: copy once, here).
 */
export function toTypedArray(dtype: string, bytes: Uint8Array): TypedArray {
  const type = DTYPES[dtype];
  if (!type) throw new Error(`unknown dtype "${dtype}"`);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new type.array(copy);
}

/** The bytes of a typed array, without copying. */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}
