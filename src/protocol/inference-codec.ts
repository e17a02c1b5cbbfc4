// Inference payloads (what agents and models exchange) and GPU host frames.

import { errorText } from './error-text.js';
import { troupe } from './generated/troupe.js';

const v1 = troupe.v1;

export type Tensor = troupe.v1.ITensor;
export type InferenceRequest = troupe.v1.IInferenceRequest;
export type InferenceResult = troupe.v1.IInferenceResult;
export type InferenceError = troupe.v1.IInferenceError;
export type GpuFrame = troupe.v1.IGpuFrame;
export type GpuCommand = troupe.v1.IGpuCommand;
export type GpuEvent = troupe.v1.IGpuEvent;
export type ModelSpecWire = troupe.v1.IModelSpec;
export type ModelReady = troupe.v1.IModelReady;
export type TensorInfo = troupe.v1.ITensorInfo;
export type ProviderSkip = troupe.v1.IProviderSkip;
export type Answer = troupe.v1.IAnswer;
export type GenerateRequest = troupe.v1.IGenerateRequest;
export type GenerateToken = troupe.v1.IGenerateToken;
export type GenerateResult = troupe.v1.IGenerateResult;

export const InferenceErrorCode = v1.InferenceErrorCode;
export type InferenceErrorCode = troupe.v1.InferenceErrorCode;

/** Kind of a request envelope to a model. */
export const INFER_KIND = 'troupe/infer';
/** Kind of a model's answer. */
export const INFER_RESULT_KIND = 'troupe/infer.result';
/** Kind of a model's (or the router's) refusal. */
export const INFER_ERROR_KIND = 'troupe/infer.error';
/** Kind of a generation request to a language model. */
export const GENERATE_KIND = 'troupe/generate';

/** Whether a model of this kind ("onnx", "llm", "openai") generates text: takes GENERATE_KIND, not INFER_KIND. */
export function generatesText(kind: string): boolean {
  return kind === 'llm' || kind === 'openai';
}

/** Kind of one streamed token. */
export const GENERATE_TOKEN_KIND = 'troupe/generate.token';
/** Kind of the end of a generation. */
export const GENERATE_DONE_KIND = 'troupe/generate.done';
/** Kind of a cancellation; its correlation id names the generation request. */
export const GENERATE_CANCEL_KIND = 'troupe/generate.cancel';

export function encodeGenerateRequest(request: GenerateRequest): Uint8Array {
  return v1.GenerateRequest.encode(request).finish();
}

export function decodeGenerateRequest(
  bytes: Uint8Array,
): { ok: true; request: troupe.v1.GenerateRequest } | { ok: false; error: string } {
  try {
    return { ok: true, request: v1.GenerateRequest.decode(bytes) };
  } catch (error) {
    return {
      ok: false,
      error: `payload of ${bytes.length} bytes is not a GenerateRequest: ${errorText(error)}`,
    };
  }
}

export function encodeGenerateToken(token: GenerateToken): Uint8Array {
  return v1.GenerateToken.encode(token).finish();
}

export function decodeGenerateToken(bytes: Uint8Array): troupe.v1.GenerateToken {
  return v1.GenerateToken.decode(bytes);
}

export function encodeGenerateResult(result: GenerateResult): Uint8Array {
  return v1.GenerateResult.encode(result).finish();
}

export function decodeGenerateResult(bytes: Uint8Array): troupe.v1.GenerateResult {
  return v1.GenerateResult.decode(bytes);
}

export function encodeInferenceRequest(request: InferenceRequest): Uint8Array {
  return v1.InferenceRequest.encode(request).finish();
}

export function encodeInferenceResult(result: InferenceResult): Uint8Array {
  return v1.InferenceResult.encode(result).finish();
}

export function encodeInferenceError(error: InferenceError): Uint8Array {
  return v1.InferenceError.encode(error).finish();
}

/** Decodes a request; a payload that is not one gives the decoder's reason. */
export function decodeInferenceRequest(
  bytes: Uint8Array,
): { ok: true; request: troupe.v1.InferenceRequest } | { ok: false; error: string } {
  try {
    return { ok: true, request: v1.InferenceRequest.decode(bytes) };
  } catch (error) {
    return {
      ok: false,
      error: `payload of ${bytes.length} bytes is not an InferenceRequest: ${errorText(error)}`,
    };
  }
}

export function decodeInferenceResult(bytes: Uint8Array): troupe.v1.InferenceResult {
  return v1.InferenceResult.decode(bytes);
}

export function decodeInferenceError(bytes: Uint8Array): troupe.v1.InferenceError {
  return v1.InferenceError.decode(bytes);
}

export function encodeGpuFrame(frame: GpuFrame): Uint8Array {
  return v1.GpuFrame.encode(frame).finish();
}

export function decodeGpuFrame(
  bytes: unknown,
): { ok: true; frame: troupe.v1.GpuFrame } | { ok: false; error: string } {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'GPU host frame is not binary' };
  try {
    const frame = v1.GpuFrame.decode(bytes);
    if (frame.commands.some((command) => !command.command) || frame.events.some((event) => !event.event)) {
      return { ok: false, error: 'GPU host frame carries an empty command or event' };
    }
    return { ok: true, frame };
  } catch (error) {
    return {
      ok: false,
      error: `GPU host frame of ${bytes.length} bytes does not decode: ${errorText(error)}`,
    };
  }
}
