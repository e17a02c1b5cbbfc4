// troupe/agent: the SDK for agents written in TypeScript or JavaScript. Agents run in a QuickJS
// sandbox inside their host; this is the only module they can import from Troupe.
export type { Agent, AgentDefinition, Context, Handler, MessageMap, SendOptions } from './agent.js';
export { defineAgent } from './agent.js';
export type {
  ChatMessage,
  Dtype,
  GeneratedToken,
  GenerateOptions,
  Generation,
  InferError,
  InferResult,
  ModelToolCall,
  TensorInput,
  ToolDefinition,
} from './inference.js';
export {
  GENERATE_DONE,
  GENERATE_TOKEN,
  INFER_ERROR,
  INFER_RESULT,
  readGeneratedToken,
  readGeneration,
  readInferError,
  readInferResult,
  rejectionReason,
  Tensor,
} from './inference.js';
export { Message } from './message.js';
export type { Payload } from './payload.js';
export { Data, decodeText, encodeText } from './payload.js';
export type { ToolError, ToolResult } from './tools.js';
export { readToolError, readToolResult, TOOL_ERROR, TOOL_RESULT } from './tools.js';

/** The kind of the notice a sender gets when a full mailbox refuses its message. */
export const REJECTED = 'troupe/rejected';
