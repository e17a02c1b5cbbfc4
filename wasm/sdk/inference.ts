// Asking a model for an answer: build a request of named tensors, send it to "@gpu/<model>", and
// read the result (kind INFER_RESULT_KIND) or the error (INFER_ERROR_KIND) that comes back later.
import { send } from "./index";
import { Message } from "./message";
import { ProtoReader, ProtoWriter } from "./protobuf";

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
    const writer = new ProtoWriter();
    for (let i = 0; i < this.inputs.length; i++) writer.bytesField(1, encodeTensor(this.inputs[i]));
    for (let i = 0; i < this.outputs.length; i++) writer.stringField(2, this.outputs[i]);
    return writer.finish();
  }
}

/** Sends the request to "@gpu/<model>" (the agent needs the model in capabilities.models). */
export function infer(model: string, request: InferenceRequest): void {
  send("@gpu/" + model, INFER_KIND, request.encode());
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
  const result = new InferenceResult();
  const reader = new ProtoReader(message.payload);
  while (!reader.done) {
    const tag = <i32>reader.varint();
    if (tag >> 3 == 1 && (tag & 7) == 2) result.model = reader.stringValue();
    else if (tag >> 3 == 2 && (tag & 7) == 2) result.outputs.push(decodeTensor(reader.bytesValue()));
    else reader.skip(tag & 7);
  }
  return result;
}

export function readError(message: Message): InferenceError {
  const error = new InferenceError();
  const reader = new ProtoReader(message.payload);
  while (!reader.done) {
    const tag = <i32>reader.varint();
    const field = tag >> 3;
    if (field == 1 && (tag & 7) == 2) error.model = reader.stringValue();
    else if (field == 2 && (tag & 7) == 2) error.input = reader.stringValue();
    else if (field == 3 && (tag & 7) == 0) error.code = <i32>reader.varint();
    else if (field == 4 && (tag & 7) == 2) error.message = reader.stringValue();
    else reader.skip(tag & 7);
  }
  return error;
}

function encodeTensor(tensor: Tensor): Uint8Array {
  const writer = new ProtoWriter();
  writer.stringField(1, tensor.name);
  writer.stringField(2, tensor.dtype);
  writer.packedField(3, tensor.dims);
  writer.bytesField(4, tensor.data);
  return writer.finish();
}

function decodeTensor(bytes: Uint8Array): Tensor {
  const tensor = new Tensor("", "", [], new Uint8Array(0));
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const tag = <i32>reader.varint();
    const field = tag >> 3;
    const wire = tag & 7;
    if (field == 1 && wire == 2) tensor.name = reader.stringValue();
    else if (field == 2 && wire == 2) tensor.dtype = reader.stringValue();
    else if (field == 3 && wire == 2) {
      const packed = new ProtoReader(reader.bytesValue());
      while (!packed.done) tensor.dims.push(<i64>packed.varint());
    } else if (field == 3 && wire == 0) tensor.dims.push(<i64>reader.varint());
    else if (field == 4 && wire == 2) tensor.data = reader.bytesValue();
    else reader.skip(wire);
  }
  return tensor;
}
