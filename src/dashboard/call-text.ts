// What the window says about a request to a model or a tool and about its answer, in one line each:
// a tool call's arguments, a generation's prompt, an inference's tensors; a tool's text, the
// generated text and tool calls, a result's outputs; an error's code and message. Pure; a payload
// that does not decode is said to be so, never thrown.
import {
  decodeGenerateRequest,
  decodeGenerateResult,
  decodeInferenceError,
  decodeInferenceRequest,
  decodeInferenceResult,
  decodeToolCall,
  type Envelope,
  GENERATE_DONE_KIND,
  GENERATE_KIND,
  INFER_ERROR_KIND,
  INFER_RESULT_KIND,
  InferenceErrorCode,
  TOOL_ERROR_KIND,
  TOOL_PREFIX,
  TOOL_RESULT_KIND,
} from '../protocol/index.js';
import { MODEL_PREFIX } from '../supervisor/index.js';

/** Longest text kept for one side of a call. */
export const CALL_TEXT = 400;

/** The kinds that end a call (a generation's tokens do not). */
export const FINAL_KINDS = new Set([
  TOOL_RESULT_KIND,
  TOOL_ERROR_KIND,
  INFER_RESULT_KIND,
  INFER_ERROR_KIND,
  GENERATE_DONE_KIND,
]);

/** "fs/read_text_file", "generate big", "infer mlp", and the arguments in short. */
export function describeRequest(envelope: Envelope): { what: string; args: string } {
  const to = envelope.to ?? '';
  const payload = envelope.payload ?? new Uint8Array(0);
  if (to.startsWith(TOOL_PREFIX)) {
    const server = to.slice(TOOL_PREFIX.length);
    const call = decodeToolCall(payload);
    if (!call.ok) return { what: `${server}/?`, args: call.error };
    return { what: `${server}/${call.tool}`, args: clip(JSON.stringify(call.arguments)) };
  }
  const model = to.startsWith(MODEL_PREFIX) ? to.slice(MODEL_PREFIX.length) : to;
  if (envelope.kind === GENERATE_KIND) {
    const decoded = decodeGenerateRequest(payload);
    if (!decoded.ok) return { what: `generate ${model}`, args: decoded.error };
    const { prompt, messages, tools } = decoded.request;
    const last = messages.at(-1);
    const text = last ? `${last.role}: ${last.content}` : prompt;
    const extra = tools.length > 0 ? ` (+${tools.length} tool${tools.length === 1 ? '' : 's'})` : '';
    return { what: `generate ${model}`, args: clip(`${text}${extra}`) };
  }
  const decoded = decodeInferenceRequest(payload);
  if (!decoded.ok) return { what: `infer ${model}`, args: decoded.error };
  const tensors = decoded.request.inputs.map(
    (tensor) => `${tensor.name} ${tensor.dtype}[${(tensor.dims ?? []).join(',')}]`,
  );
  return { what: `infer ${model}`, args: clip(tensors.join(', ')) };
}

/** A final answer: its text in short, or the error (code: message). */
export function describeAnswer(envelope: Envelope): { answer: string } | { error: string } {
  const payload = envelope.payload ?? new Uint8Array(0);
  try {
    switch (envelope.kind) {
      case TOOL_ERROR_KIND: {
        const { code, message } = JSON.parse(new TextDecoder().decode(payload)) as {
          code?: string;
          message?: string;
        };
        return { error: clip(`${code ?? 'FAILED'}: ${message ?? ''}`) };
      }
      case TOOL_RESULT_KIND: {
        const result = JSON.parse(new TextDecoder().decode(payload)) as {
          content?: Array<{ type: string; text?: string }>;
          isError?: boolean;
        };
        const text = (result.content ?? []).map((block) => block.text ?? `[${block.type}]`).join('\n');
        return { answer: clip(text) };
      }
      case INFER_ERROR_KIND: {
        const error = decodeInferenceError(payload);
        return { error: clip(`${InferenceErrorCode[error.code] ?? error.code}: ${error.message}`) };
      }
      case GENERATE_DONE_KIND: {
        const result = decodeGenerateResult(payload);
        const calls = result.toolCalls.map((call) => `${call.name}(${call.arguments})`);
        const text = calls.length > 0 ? `${result.text} → calls ${calls.join(', ')}` : result.text;
        const cached =
          result.cachedPromptTokens > 0 ? `, ${result.cachedPromptTokens} prompt tokens cached` : '';
        return { answer: clip(`${text} [${result.stopReason}${cached}]`) };
      }
      default: {
        const result = decodeInferenceResult(payload);
        return {
          answer: clip(
            result.outputs
              .map((tensor) => `${tensor.name} ${tensor.dtype}[${(tensor.dims ?? []).join(',')}]`)
              .join(', '),
          ),
        };
      }
    }
  } catch (error) {
    return {
      error: `the answer (${envelope.kind}, ${payload.length} bytes) does not decode: ${String(error)}`,
    };
  }
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > CALL_TEXT ? `${flat.slice(0, CALL_TEXT - 1)}…` : flat;
}
