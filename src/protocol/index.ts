// Public surface of the wire protocol: message types and frame encoding.
export type { DecodeResult, Envelope, Frame, HostCommand, HostEvent, Output } from './codec.js';
export { decodeFrame, encodeCommand, encodeFrame, envelopeId } from './codec.js';
export {
  type DeliverFields,
  decodeOutputAt,
  encodeDeliverFrame,
  ownBytes,
  type WithWire,
} from './deliver-wire.js';
export { errorText } from './error-text.js';
export { type CommandKind, type FramePeek, isStopCommand, peekFrame } from './frame-peek.js';
export type {
  Answer,
  GenerateRequest,
  GenerateResult,
  GenerateToken,
  GpuCommand,
  GpuEvent,
  GpuFrame,
  InferenceError,
  InferenceRequest,
  InferenceResult,
  ModelReady,
  ModelSpecWire,
  ProviderSkip,
  Tensor,
  TensorInfo,
} from './inference-codec.js';
export {
  decodeGenerateRequest,
  decodeGenerateResult,
  decodeGenerateToken,
  decodeGpuFrame,
  decodeInferenceError,
  decodeInferenceRequest,
  decodeInferenceResult,
  encodeGenerateRequest,
  encodeGenerateResult,
  encodeGenerateToken,
  encodeGpuFrame,
  encodeInferenceError,
  encodeInferenceRequest,
  encodeInferenceResult,
  GENERATE_CANCEL_KIND,
  GENERATE_DONE_KIND,
  GENERATE_KIND,
  GENERATE_TOKEN_KIND,
  generatesText,
  INFER_ERROR_KIND,
  INFER_KIND,
  INFER_RESULT_KIND,
  InferenceErrorCode,
} from './inference-codec.js';
export type { JournalChain, JournalRead, JournalRecord } from './journal-codec.js';
export {
  decodeJournal,
  decodeJournalRecords,
  encodeJournalRecord,
  JOURNAL_MAGIC,
  JOURNAL_START,
} from './journal-codec.js';
export {
  decodeToolCall,
  decodeToolFrame,
  encodeToolError,
  encodeToolFrame,
  TOOL_CALL_KIND,
  TOOL_ERROR_KIND,
  TOOL_PREFIX,
  TOOL_RESULT_KIND,
  type ToolAnswerWire,
  type ToolCommand,
  type ToolEvent,
  type ToolFrame,
  type ToolServerWire,
} from './tool-codec.js';
