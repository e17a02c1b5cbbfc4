// Asking a language model served by the GPU host for text: send a prompt (or chat messages) to
// "@gpu/<model>"; tokens stream back as GENERATE_TOKEN_KIND messages, then one GENERATE_DONE_KIND
// (or an INFER_ERROR_KIND). Tokens and the result name the request (`requestId`), which is what
// `cancelGeneration` takes.
import { send } from "./index";
import { Message } from "./message";
import { ProtoReader, ProtoWriter } from "./protobuf";

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
}

export class ChatMessage {
  constructor(
    public role: string,
    public content: string,
  ) {}
}

export function generate(model: string, prompt: string, options: GenerateOptions | null = null): void {
  const writer = new ProtoWriter();
  writer.stringField(1, prompt);
  writeOptions(writer, options);
  send("@gpu/" + model, GENERATE_KIND, writer.finish());
}

/** Chat messages, rendered with the model's chat template (tokenizer_config.json). */
export function generateChat(model: string, messages: ChatMessage[], options: GenerateOptions | null = null): void {
  const writer = new ProtoWriter();
  for (let i = 0; i < messages.length; i++) {
    const message = new ProtoWriter();
    message.stringField(1, messages[i].role);
    message.stringField(2, messages[i].content);
    writer.bytesField(2, message.finish());
  }
  writeOptions(writer, options);
  send("@gpu/" + model, GENERATE_KIND, writer.finish());
}

/** Stops one of this agent's generations; its done message then says "cancelled". */
export function cancelGeneration(model: string, requestId: string): void {
  send("@gpu/" + model, GENERATE_CANCEL_KIND, new Uint8Array(0), requestId);
}

export class GeneratedToken {
  index: u32 = 0;
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
  /** "eos", "stop_token", "stop_string", "max_tokens" or "cancelled". */
  stopReason: string = "";
  requestId: string = "";
}

export function readToken(message: Message): GeneratedToken {
  const token = new GeneratedToken();
  const reader = new ProtoReader(message.payload);
  while (!reader.done) {
    const tag = <i32>reader.varint();
    const field = tag >> 3;
    if (field == 1 && (tag & 7) == 0) token.index = <u32>reader.varint();
    else if (field == 2 && (tag & 7) == 0) token.tokenId = <i64>reader.varint();
    else if (field == 3 && (tag & 7) == 2) token.text = reader.stringValue();
    else if (field == 4 && (tag & 7) == 2) token.requestId = reader.stringValue();
    else reader.skip(tag & 7);
  }
  return token;
}

export function readGeneration(message: Message): Generation {
  const result = new Generation();
  const reader = new ProtoReader(message.payload);
  while (!reader.done) {
    const tag = <i32>reader.varint();
    const field = tag >> 3;
    const wire = tag & 7;
    if (field == 1 && wire == 2) result.model = reader.stringValue();
    else if (field == 2 && wire == 2) result.text = reader.stringValue();
    else if (field == 3 && wire == 0) result.promptTokens = <u32>reader.varint();
    else if (field == 4 && wire == 0) result.generatedTokens = <u32>reader.varint();
    else if (field == 5 && wire == 2) result.stopReason = reader.stringValue();
    else if (field == 7 && wire == 2) result.requestId = reader.stringValue();
    else reader.skip(wire);
  }
  return result;
}

function writeOptions(writer: ProtoWriter, options: GenerateOptions | null): void {
  if (!options) return;
  if (options.maxNewTokens > 0) writer.varintField(3, options.maxNewTokens);
  if (options.temperature > 0) writer.float32Field(4, options.temperature);
  if (options.topK > 0) writer.varintField(5, options.topK);
  if (options.topP > 0) writer.float32Field(6, options.topP);
  if (options.seed > 0) writer.varintField(7, options.seed);
  for (let i = 0; i < options.stop.length; i++) writer.stringField(8, options.stop[i]);
}
