// Asking the GPU host for answers: `infer` for a model run on named tensors, `generate` for text
// from a language model. Both return the request's id; answers come back later as messages whose
// correlation id is that id, read with the functions below.
import type { Message } from './message.js';
import { decodeText } from './payload.js';
import { type Field, fieldText, ProtoWriter, readFields, varints } from './wire.js';

export const INFER = 'troupe/infer';
export const INFER_RESULT = 'troupe/infer.result';
export const INFER_ERROR = 'troupe/infer.error';
export const GENERATE = 'troupe/generate';
export const GENERATE_TOKEN = 'troupe/generate.token';
export const GENERATE_DONE = 'troupe/generate.done';
export const GENERATE_CANCEL = 'troupe/generate.cancel';

export type Dtype =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

export interface TensorInput {
  dims: readonly number[];
  /** A typed array (its type names the dtype), or plain numbers (float32 unless `dtype` says). */
  data: ArrayBufferView | readonly number[];
  dtype?: Dtype;
}

const ARRAY_DTYPES: Array<[new (...args: never[]) => ArrayBufferView, Dtype]> = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int8Array, 'int8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [BigInt64Array, 'int64'],
  [BigUint64Array, 'uint64'],
  [Uint8Array, 'uint8'],
];

export function encodeInferRequest(
  inputs: Record<string, TensorInput>,
  outputs: readonly string[] = [],
): Uint8Array {
  const writer = new ProtoWriter();
  for (const [name, input] of Object.entries(inputs)) writer.bytes(1, encodeTensor(name, input));
  for (const output of outputs) writer.string(2, output);
  return writer.finish();
}

function encodeTensor(name: string, input: TensorInput): Uint8Array {
  let dtype = input.dtype;
  let data: Uint8Array;
  if (ArrayBuffer.isView(input.data)) {
    const view = input.data;
    dtype ??= ARRAY_DTYPES.find(([type]) => view instanceof type)?.[1];
    if (!dtype) throw new TypeError(`tensor "${name}": cannot tell the dtype of its data; set dtype`);
    data = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  } else {
    const values = input.data;
    dtype ??= 'float32';
    if (dtype !== 'float32')
      throw new TypeError(`tensor "${name}": plain numbers are float32; pass a typed array for ${dtype}`);
    data = new Uint8Array(Float32Array.from(values).buffer);
  }
  return new ProtoWriter().string(1, name).string(2, dtype).packed(3, input.dims).bytes(4, data).finish();
}

export class Tensor {
  constructor(
    readonly name: string,
    readonly dtype: string,
    readonly dims: readonly number[],
    readonly data: Uint8Array,
  ) {}

  float32(): Float32Array {
    return new Float32Array(this.data.slice().buffer);
  }

  int64(): BigInt64Array {
    return new BigInt64Array(this.data.slice().buffer);
  }

  /** Index of the largest float32 element (the class of a softmax output, say). */
  argmax(): number {
    const values = this.float32();
    let best = 0;
    for (let index = 1; index < values.length; index++)
      if ((values[index] as number) > (values[best] as number)) best = index;
    return best;
  }
}

export interface InferResult {
  /** The id `infer` returned. */
  request: string;
  model: string;
  outputs: Record<string, Tensor>;
}

export interface InferError {
  request: string;
  model: string;
  input: string;
  /**
   * An InferenceErrorCode of proto/troupe/v1/inference.proto (1 unknown model … 14 too long; 15
   * timed out, 16 remote failed: a remote model's server).
   */
  code: number;
  message: string;
}

function decodeTensor(bytes: Uint8Array): Tensor {
  const fields = readFields(bytes);
  const text = (number: number) => fieldText(fields.find((field) => field.field === number) ?? empty(number));
  const data = fields.find((field) => field.field === 4)?.bytes ?? new Uint8Array(0);
  return new Tensor(text(1), text(2), varints(fields, 3), data);
}

function empty(field: number): Field {
  return { field, wire: 2, number: 0n, bytes: new Uint8Array(0) };
}

function expect(message: Message, kind: string): Field[] {
  if (message.kind !== kind) throw new TypeError(`message ${message.id} is a ${message.kind}, not a ${kind}`);
  return readFields(message.payload);
}

function textOf(fields: readonly Field[], number: number): string {
  const field = fields.find((item) => item.field === number);
  return field ? fieldText(field) : '';
}

function numberOf(fields: readonly Field[], number: number): number {
  return Number(fields.find((item) => item.field === number)?.number ?? 0n);
}

export function readInferResult(message: Message): InferResult {
  const fields = expect(message, INFER_RESULT);
  const outputs: Record<string, Tensor> = {};
  for (const field of fields) {
    if (field.field !== 2) continue;
    const tensor = decodeTensor(field.bytes);
    outputs[tensor.name] = tensor;
  }
  return { request: message.correlationId, model: textOf(fields, 1), outputs };
}

export function readInferError(message: Message): InferError {
  const fields = expect(message, INFER_ERROR);
  return {
    request: message.correlationId,
    model: textOf(fields, 1),
    input: textOf(fields, 2),
    code: numberOf(fields, 3),
    message: textOf(fields, 4),
  };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | string;
  content: string;
  /** role "assistant": the tools the model called in that turn (a Generation's toolCalls). */
  toolCalls?: readonly ModelToolCall[];
  /** role "tool": the id of the call this message answers. */
  toolCallId?: string;
}

/** A tool a remote model (type: openai) may call. */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of its arguments (an MCP tool's inputSchema fits). */
  parameters?: object;
}

/** A call of a tool, as the model asked for it: the agent decides what to do with it. */
export interface ModelToolCall {
  id: string;
  name: string;
  /** JSON text, as the model wrote it (not checked against the schema). */
  arguments: string;
}

export interface GenerateOptions {
  maxNewTokens?: number;
  /** 0: greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** 0 or unset: derived from the request id (still deterministic). */
  seed?: number;
  /** Generation stops at the first of these strings (cut before it). */
  stop?: readonly string[];
  /** Tools the model may call (remote models only). */
  tools?: readonly ToolDefinition[];
  /** "auto" (default), "none", "required", or the name of one of `tools`. */
  toolChoice?: string;
}

export function encodeGenerateRequest(
  prompt: string | readonly ChatMessage[],
  options: GenerateOptions = {},
): Uint8Array {
  const writer = new ProtoWriter();
  if (typeof prompt === 'string') writer.string(1, prompt);
  else for (const turn of prompt) writer.bytes(2, encodeTurn(turn));
  if (options.maxNewTokens) writer.varint(3, options.maxNewTokens);
  if (options.temperature) writer.float(4, options.temperature);
  if (options.topK) writer.varint(5, options.topK);
  if (options.topP) writer.float(6, options.topP);
  if (options.seed) writer.varint(7, options.seed);
  for (const stop of options.stop ?? []) writer.string(8, stop);
  for (const tool of options.tools ?? []) {
    const definition = new ProtoWriter().string(1, tool.name).string(2, tool.description ?? '');
    writer.bytes(10, definition.string(3, JSON.stringify(tool.parameters ?? {})).finish());
  }
  if (options.toolChoice) writer.string(11, options.toolChoice);
  return writer.finish();
}

function encodeTurn(turn: ChatMessage): Uint8Array {
  const writer = new ProtoWriter().string(1, turn.role).string(2, turn.content);
  for (const call of turn.toolCalls ?? []) writer.bytes(3, encodeToolCall(call));
  if (turn.toolCallId) writer.string(4, turn.toolCallId);
  return writer.finish();
}

function encodeToolCall(call: ModelToolCall): Uint8Array {
  return new ProtoWriter().string(1, call.id).string(2, call.name).string(3, call.arguments).finish();
}

function decodeToolCall(bytes: Uint8Array): ModelToolCall {
  const fields = readFields(bytes);
  return { id: textOf(fields, 1), name: textOf(fields, 2), arguments: textOf(fields, 3) };
}

export interface GeneratedToken {
  request: string;
  index: number;
  /** -1 from a remote model (its server streams text). */
  tokenId: number;
  text: string;
}

export interface Generation {
  request: string;
  model: string;
  text: string;
  promptTokens: number;
  generatedTokens: number;
  /**
   * "eos", "stop_token", "stop_string", "max_tokens" or "cancelled"; from a remote model also
   * "tool_calls" (see toolCalls) or its server's own finish reason.
   */
  stopReason: string;
  /** The tools the model called (remote models). */
  toolCalls: ModelToolCall[];
  /** Prompt tokens whose keys and values came from the model's prefix cache (local models). */
  cachedPromptTokens: number;
}

export function readGeneratedToken(message: Message): GeneratedToken {
  const fields = expect(message, GENERATE_TOKEN);
  return {
    request: textOf(fields, 4) || message.correlationId,
    index: numberOf(fields, 1),
    tokenId: Number(BigInt.asIntN(64, fields.find((item) => item.field === 2)?.number ?? 0n)),
    text: textOf(fields, 3),
  };
}

export function readGeneration(message: Message): Generation {
  const fields = expect(message, GENERATE_DONE);
  return {
    request: textOf(fields, 7) || message.correlationId,
    model: textOf(fields, 1),
    text: textOf(fields, 2),
    promptTokens: numberOf(fields, 3),
    generatedTokens: numberOf(fields, 4),
    stopReason: textOf(fields, 5),
    toolCalls: fields.filter((field) => field.field === 8).map((field) => decodeToolCall(field.bytes)),
    cachedPromptTokens: numberOf(fields, 9),
  };
}

/** A received `troupe/rejected` notice's reason. */
export function rejectionReason(message: Message): string {
  return decodeText(message.payload);
}
