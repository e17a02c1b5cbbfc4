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
  const known = model.inputs.map((input) => input.name);
  const stranger = [...given.keys()].find((name) => !known.includes(name));
  if (stranger !== undefined) {
    const expected = known.map((input) => `"${input}"`).join(', ');
    return fail(
      InferenceErrorCode.UNKNOWN_INPUT,
      stranger,
      `no input named "${stranger}" (inputs: ${expected})`,
    );
  }
  const inputs: CheckedTensor[] = [];
  const symbols = new Map<string, number>();
  let total = 0;
  for (const meta of model.inputs) {
    const tensor = given.get(meta.name);
    if (!tensor) return fail(InferenceErrorCode.MISSING_INPUT, meta.name, `input "${meta.name}" is missing`);
    const checked = checkInput(meta, tensor, symbols);
    if ('code' in checked) return fail(checked.code, meta.name, checked.message);
    const { dtype, dims, data } = checked;
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
  const outputs = request.outputs && request.outputs.length > 0 ? [...request.outputs] : outputNames(model);
  const unknown = outputs.find((name) => !outputNames(model).includes(name));
  if (unknown !== undefined) {
    const known = outputNames(model).map((o) => `"${o}"`);
    return fail(
      InferenceErrorCode.UNKNOWN_OUTPUT,
      unknown,
      `no output named "${unknown}" (outputs: ${known.join(', ')})`,
    );
  }
  return { ok: true, inputs, outputs, rows: inputs[0]?.dims[0] ?? 1, key: batchKey(inputs, outputs) };
}

/**
 * Why `dims` does not fit the input's declared shape, or undefined. A named (symbolic) dimension
 * must be the same in every input that names it: `symbols` holds the values bound so far.
 */
function shapeProblem(
  meta: ModelInfo['inputs'][number],
  dims: readonly number[],
  symbols: Map<string, number>,
): string | undefined {
  const shape = `[${dims.join(', ')}]`;
  const mismatch = `input "${meta.name}" has shape ${shape}; the model takes [${meta.dims.join(', ')}]`;
  if (dims.length !== meta.dims.length) return mismatch;
  for (const [axis, dim] of dims.entries()) {
    const want = meta.dims[axis];
    if (!Number.isSafeInteger(dim) || dim < 0 || (typeof want === 'number' && want >= 0 && dim !== want))
      return mismatch;
    if (typeof want === 'string') {
      const bound = symbols.get(want);
      if (bound !== undefined && bound !== dim)
        return `input "${meta.name}" has ${want} = ${dim}, another input has ${want} = ${bound}`;
      symbols.set(want, dim);
    }
  }
  return undefined;
}

/** One input against its declaration: its dtype, its shape, and its bytes for that shape. */
function checkInput(
  meta: ModelInfo['inputs'][number],
  tensor: Tensor,
  symbols: Map<string, number>,
): CheckedTensor | { code: InferenceErrorCode; message: string } {
  const dtype = tensor.dtype ?? '';
  if (dtype !== meta.dtype) {
    const got = DTYPES[dtype] ? dtype : `unknown dtype "${dtype}"`;
    return {
      code: InferenceErrorCode.WRONG_DTYPE,
      message: `input "${meta.name}" must be ${meta.dtype} (got ${got})`,
    };
  }
  const dims = (tensor.dims ?? []).map(Number);
  const wrongShape = shapeProblem(meta, dims, symbols);
  if (wrongShape) return { code: InferenceErrorCode.WRONG_SHAPE, message: wrongShape };
  const data = tensor.data ?? new Uint8Array(0);
  const bytes = elementCount(dims) * (DTYPES[dtype]?.bytes ?? 1);
  if (data.length !== bytes) {
    const shape = `[${dims.join(', ')}]`;
    const message = `input "${meta.name}" carries ${data.length} bytes; shape ${shape} of ${dtype} needs ${bytes}`;
    return { code: InferenceErrorCode.WRONG_SHAPE, message };
  }
  return { name: meta.name, dtype, dims, data };
}

function outputNames(model: ModelInfo): string[] {
  return model.outputs.map((output) => output.name);
}

/** Requests with equal keys can be stacked: same inputs, dtypes and dimensions after the first. */
function batchKey(inputs: readonly CheckedTensor[], outputs: readonly string[]): string {
  const parts = inputs.map((input) => `${input.name}:${input.dtype}:${input.dims.slice(1).join('x')}`);
  return `${parts.join('|')}>${outputs.join(',')}`;
}
