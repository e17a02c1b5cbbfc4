// Asking a language model served by the GPU host for text: send a prompt (or chat messages) to
// "@gpu/<model>"; tokens stream back as GENERATE_TOKEN_KIND messages, then one GENERATE_DONE_KIND
// (or an INFER_ERROR_KIND). Tokens and the result name the request (`requestId`), which is what
// `cancelGeneration` takes.
import { nextId, send } from "./send";
import { Message } from "./message";
import * as wire from "./generated/inference";

export const GENERATE_KIND = "troupe/generate";
export const GENERATE_TOKEN_KIND = "troupe/generate.token";
export const GENERATE_DONE_KIND = "troupe/generate.done";
export const GENERATE_CANCEL_KIND = "troupe/generate.cancel";

export class GenerateOptions {
  /** 0: the model's default. */
  maxNewTokens: u32 = 0;
  /** 0: greedy. */
  temperature: f32 = 0;
  topK: u32 = 0;
  topP: f32 = 0;
  /** 0: derived from the request id (still deterministic). */
  seed: u64 = 0;
  /** Generation stops at the first of these strings (cut before it). */
  stop: string[] = [];
  /** Tools the model may call (remote models, type: openai, only). */
  tools: ToolDefinition[] = [];
  /** "auto" (or empty), "none", "required", or the name of one of `tools`. */
  toolChoice: string = "";
}

/** A tool a remote model may call; `parameters` is its arguments' JSON Schema, as JSON text. */
export class ToolDefinition {
  constructor(
    public name: string,
    public description: string,
    public parameters: string,
  ) {}
}

/** A call of a tool, as the model asked for it; `arguments` is JSON text as the model wrote it. */
export class ModelToolCall {
  constructor(
    public id: string,
    public name: string,
    public arguments: string,
  ) {}
}

export class ChatMessage {
  /** role "assistant": the tools the model called in that turn. */
  toolCalls: ModelToolCall[] = [];
  /** role "tool": the id of the call this message answers. */
  toolCallId: string = "";

  constructor(
    public role: string,
    public content: string,
  ) {}
}

/** Asks for text; returns the request's id (what tokens and the result name, and cancelGeneration takes). */
export function generate(model: string, prompt: string, options: GenerateOptions | null = null): string {
  const request = withOptions(options);
  request.prompt = prompt;
  const id = nextId();
  send("@gpu/" + model, GENERATE_KIND, request.encode());
  return id;
}

/** Chat messages, rendered with the model's chat template (tokenizer_config.json). */
export function generateChat(model: string, messages: ChatMessage[], options: GenerateOptions | null = null): string {
  const request = withOptions(options);
  for (let i = 0; i < messages.length; i++) {
    const message = new wire.ChatMessage();
    message.role = messages[i].role;
    message.content = messages[i].content;
    message.toolCallId = messages[i].toolCallId;
    const calls = messages[i].toolCalls;
    for (let j = 0; j < calls.length; j++) message.toolCalls.push(toWire(calls[j]));
    request.messages.push(message);
  }
  const id = nextId();
  send("@gpu/" + model, GENERATE_KIND, request.encode());
  return id;
}

/** Stops one of this agent's generations; its done message then says "cancelled". */
export function cancelGeneration(model: string, requestId: string): void {
  send("@gpu/" + model, GENERATE_CANCEL_KIND, new Uint8Array(0), requestId);
}

export class GeneratedToken {
  index: u32 = 0;
  /** -1 from a remote model (its server streams text). */
  tokenId: i64 = 0;
  text: string = "";
  /** The request's id: what cancelGeneration takes. */
  requestId: string = "";
}

export class Generation {
  model: string = "";
  text: string = "";
  promptTokens: u32 = 0;
  generatedTokens: u32 = 0;
  /** "eos", "stop_token", "stop_string", "max_tokens" or "cancelled"; remote models also "tool_calls". */
  stopReason: string = "";
  requestId: string = "";
  /** The tools the model called (remote models). */
  toolCalls: ModelToolCall[] = [];
  /** Prompt tokens whose keys and values came from the model's prefix cache (local models). */
  cachedPromptTokens: u32 = 0;
}

export function readToken(message: Message): GeneratedToken {
  const decoded = wire.GenerateToken.decode(message.payload);
  const token = new GeneratedToken();
  token.index = decoded.index;
  token.tokenId = decoded.tokenId;
  token.text = decoded.text;
  token.requestId = decoded.request;
  return token;
}

export function readGeneration(message: Message): Generation {
  const decoded = wire.GenerateResult.decode(message.payload);
  const result = new Generation();
  result.model = decoded.model;
  result.text = decoded.text;
  result.promptTokens = decoded.promptTokens;
  result.generatedTokens = decoded.generatedTokens;
  result.stopReason = decoded.stopReason;
  result.requestId = decoded.request;
  result.cachedPromptTokens = decoded.cachedPromptTokens;
  for (let i = 0; i < decoded.toolCalls.length; i++) {
    const call = decoded.toolCalls[i];
    result.toolCalls.push(new ModelToolCall(call.id, call.name, call.arguments));
  }
  return result;
}

function toWire(call: ModelToolCall): wire.ModelToolCall {
  const out = new wire.ModelToolCall();
  out.id = call.id;
  out.name = call.name;
  out.arguments = call.arguments;
  return out;
}

function withOptions(options: GenerateOptions | null): wire.GenerateRequest {
  const request = new wire.GenerateRequest();
  if (!options) return request;
  request.maxNewTokens = options.maxNewTokens;
  request.temperature = options.temperature;
  request.topK = options.topK;
  request.topP = options.topP;
  request.seed = options.seed;
  request.stop = options.stop;
  for (let i = 0; i < options.tools.length; i++) {
    const tool = new wire.ToolDefinition();
    tool.name = options.tools[i].name;
    tool.description = options.tools[i].description;
    tool.parameters = options.tools[i].parameters;
    request.tools.push(tool);
  }
  request.toolChoice = options.toolChoice;
  return request;
}
