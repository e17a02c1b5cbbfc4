// Asking a model for an answer: build a request of named tensors, send it to "@gpu/<model>", and
// read the result (kind INFER_RESULT_KIND) or the error (INFER_ERROR_KIND) that comes back later.
import { nextId, send } from "./send";
import { Message } from "./message";
import * as wire from "./generated/inference";

export const INFER_KIND = "troupe/infer";
export const INFER_RESULT_KIND = "troupe/infer.result";
export const INFER_ERROR_KIND = "troupe/infer.error";

export class Tensor {
  constructor(
    public name: string,
    public dtype: string,
    public dims: i64[],
    public data: Uint8Array,
  ) {}

  /** The elements as float32 (for a "float32" tensor). */
  float32(): Float32Array {
    return Float32Array.wrap(this.data.buffer, this.data.byteOffset, this.data.byteLength >> 2);
  }

  /** The elements as int64 (for an "int64" tensor). */
  int64(): Int64Array {
    return Int64Array.wrap(this.data.buffer, this.data.byteOffset, this.data.byteLength >> 3);
  }

  /** Index of the largest float32 element (e.g. the class of a softmax output). */
  argmax(): i32 {
    const values = this.float32();
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }
}

export class InferenceRequest {
  inputs: Tensor[] = [];
  outputs: string[] = [];

  add(name: string, dtype: string, dims: i64[], data: Uint8Array): InferenceRequest {
    this.inputs.push(new Tensor(name, dtype, dims, data));
    return this;
  }

  addFloat32(name: string, dims: i64[], values: Float32Array): InferenceRequest {
    return this.add(name, "float32", dims, Uint8Array.wrap(values.buffer, values.byteOffset, values.byteLength));
  }

  addInt64(name: string, dims: i64[], values: Int64Array): InferenceRequest {
    return this.add(name, "int64", dims, Uint8Array.wrap(values.buffer, values.byteOffset, values.byteLength));
  }

  /** Asks for just this output (by default every output comes back). */
  want(output: string): InferenceRequest {
    this.outputs.push(output);
    return this;
  }

  encode(): Uint8Array {
    const request = new wire.InferenceRequest();
    for (let i = 0; i < this.inputs.length; i++) request.inputs.push(toWire(this.inputs[i]));
    request.outputs = this.outputs;
    return request.encode();
  }
}

/**
 * Sends the request to "@gpu/<model>" (the agent needs the model in capabilities.models); returns
 * its id, which the answer's correlation id (`message.correlationId`) names.
 */
export function infer(model: string, request: InferenceRequest): string {
  const id = nextId();
  send("@gpu/" + model, INFER_KIND, request.encode());
  return id;
}

export class InferenceResult {
  model: string = "";
  outputs: Tensor[] = [];

  output(name: string): Tensor | null {
    for (let i = 0; i < this.outputs.length; i++) if (this.outputs[i].name == name) return this.outputs[i];
    return null;
  }
}

export class InferenceError {
  model: string = "";
  input: string = "";
  code: i32 = 0;
  message: string = "";
}

export function readResult(message: Message): InferenceResult {
  const decoded = wire.InferenceResult.decode(message.payload);
  const result = new InferenceResult();
  result.model = decoded.model;
  for (let i = 0; i < decoded.outputs.length; i++) result.outputs.push(fromWire(decoded.outputs[i]));
  return result;
}

export function readError(message: Message): InferenceError {
  const decoded = wire.InferenceError.decode(message.payload);
  const error = new InferenceError();
  error.model = decoded.model;
  error.input = decoded.input;
  error.code = decoded.code;
  error.message = decoded.message;
  return error;
}

function toWire(tensor: Tensor): wire.Tensor {
  const value = new wire.Tensor();
  value.name = tensor.name;
  value.dtype = tensor.dtype;
  value.dims = tensor.dims;
  value.data = tensor.data;
  return value;
}

function fromWire(tensor: wire.Tensor): Tensor {
  return new Tensor(tensor.name, tensor.dtype, tensor.dims, tensor.data);
}
