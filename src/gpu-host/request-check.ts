// Checks a decoded request against the model it is for; every refusal names the model and input.
import { type InferenceError, InferenceErrorCode, type Tensor } from '../protocol/index.js';
import { DTYPES, elementCount } from './dtypes.js';
import type { ModelInfo } from './model-info.js';

export interface CheckedTensor {
  name: string;
  dtype: string;
  dims: number[];
  data: Uint8Array;
}

export type CheckedRequest =
  | { ok: true; inputs: CheckedTensor[]; outputs: string[]; rows: number; key: string }
  | { ok: false; error: InferenceError };

export function checkRequest(
  model: ModelInfo,
  request: { inputs?: Tensor[] | null; outputs?: string[] | null },
): CheckedRequest {
  const fail = (code: InferenceErrorCode, input: string, message: string): CheckedRequest => ({
    ok: false,
    error: { model: model.name, input, code, message: `model "${model.name}": ${message}` },
  });
  const given = new Map<string, Tensor>();
  for (const tensor of request.inputs ?? []) {
    const name = tensor.name ?? '';
    if (given.has(name)) return fail(InferenceErrorCode.BAD_REQUEST, name, `input "${name}" is given twice`);
    given.set(name, tensor);
  }
  const known = new Set(model.inputs.map((input) => input.name));
  for (const name of given.keys()) {
    if (!known.has(name)) {
      const expected = [...known].map((input) => `"${input}"`).join(', ');
      return fail(InferenceErrorCode.UNKNOWN_INPUT, name, `no input named "${name}" (inputs: ${expected})`);
    }
  }
  const inputs: CheckedTensor[] = [];
  const symbols = new Map<string, number>();
  let total = 0;
  for (const meta of model.inputs) {
    const tensor = given.get(meta.name);
    if (!tensor) return fail(InferenceErrorCode.MISSING_INPUT, meta.name, `input "${meta.name}" is missing`);
    const dtype = tensor.dtype ?? '';
    if (dtype !== meta.dtype) {
      const got = DTYPES[dtype] ? dtype : `unknown dtype "${dtype}"`;
      return fail(
        InferenceErrorCode.WRONG_DTYPE,
        meta.name,
        `input "${meta.name}" must be ${meta.dtype} (got ${got})`,
      );
    }
    const dims = (tensor.dims ?? []).map(Number);
    const shape = `[${dims.join(', ')}]`;
    const wanted = `[${meta.dims.join(', ')}]`;
    if (dims.length !== meta.dims.length) {
      return fail(
        InferenceErrorCode.WRONG_SHAPE,
        meta.name,
        `input "${meta.name}" has shape ${shape}; the model takes ${wanted}`,
      );
    }
    for (const [axis, dim] of dims.entries()) {
      const want = meta.dims[axis];
      if (!Number.isSafeInteger(dim) || dim < 0 || (typeof want === 'number' && want >= 0 && dim !== want)) {
        return fail(
          InferenceErrorCode.WRONG_SHAPE,
          meta.name,
          `input "${meta.name}" has shape ${shape}; the model takes ${wanted}`,
        );
      }
      if (typeof want === 'string') {
        const bound = symbols.get(want);
        if (bound !== undefined && bound !== dim) {
          return fail(
            InferenceErrorCode.WRONG_SHAPE,
            meta.name,
            `input "${meta.name}" has ${want} = ${dim}, another input has ${want} = ${bound}`,
          );
        }
        symbols.set(want, dim);
      }
    }
    const data = tensor.data ?? new Uint8Array(0);
    const bytes = elementCount(dims) * (DTYPES[dtype]?.bytes ?? 1);
    if (data.length !== bytes) {
      return fail(
        InferenceErrorCode.WRONG_SHAPE,
        meta.name,
        `input "${meta.name}" carries ${data.length} bytes; shape ${shape} of ${dtype} needs ${bytes}`,
      );
    }
    total += data.length;
    if (total > model.maxRequestBytes) {
      return fail(
        InferenceErrorCode.TOO_LARGE,
        meta.name,
        `input "${meta.name}" takes the request to ${total} bytes, over maxRequestBytes ${model.maxRequestBytes}`,
      );
    }
    inputs.push({ name: meta.name, dtype, dims, data });
  }
  const outputNames = model.outputs.map((output) => output.name);
  const outputs = request.outputs && request.outputs.length > 0 ? [...request.outputs] : outputNames;
  const unknown = outputs.find((name) => !outputNames.includes(name));
  if (unknown !== undefined) {
    return fail(
      InferenceErrorCode.UNKNOWN_OUTPUT,
      unknown,
      `no output named "${unknown}" (outputs: ${outputNames.map((o) => `"${o}"`).join(', ')})`,
    );
  }
  return { ok: true, inputs, outputs, rows: inputs[0]?.dims[0] ?? 1, key: batchKey(inputs, outputs) };
}

/** Requests with equal keys can be stacked: same inputs, dtypes and dimensions after the first. */
function batchKey(inputs: readonly CheckedTensor[], outputs: readonly string[]): string {
  const parts = inputs.map((input) => `${input.name}:${input.dtype}:${input.dims.slice(1).join('x')}`);
  return `${parts.join('|')}>${outputs.join(',')}`;
}
