// Troupe AssemblyScript SDK (ABI v1): send (send.ts), timers, log, logical time, seeded random,
// model requests and generation (inference.ts, generate.ts), and the `troupe_*` exports every agent
// module must have, which the build adds to each agent itself (exports.ts): an agent only
// registers its handlers.
import { abiLog, abiNow, abiRandom } from "./abi";
import { Message, readMessage } from "./message";
import { nextId, self, send, sendDelayed } from "./send";

export { nextId, self, send, sendDelayed } from "./send";

export { Message } from "./message";
export { intParam, param } from "./params";

export type InitHandler = (data: Uint8Array) => void;
/** Returns true when the agent has finished its work and wants to stop normally. */
export type MessageHandler = (message: Message) => bool;

let initHandler: InitHandler | null = null;
let messageHandler: MessageHandler | null = null;

export function onInit(handler: InitHandler): void {
  initHandler = handler;
}

export function onMessage(handler: MessageHandler): void {
  messageHandler = handler;
}

/**
 * A timer: `kind` comes back to this agent `ticks` ticks from now (1: the next tick). Needs the
 * agent itself in its capabilities.sendTo.
 */
export function after(ticks: i32, kind: string, payload: Uint8Array = new Uint8Array(0)): void {
  if (ticks < 1) abort("after: ticks must be at least 1");
  sendDelayed(ticks - 1, self(), kind, payload);
}

export function sendText(to: string, kind: string, text: string, correlationId: string = ""): void {
  send(to, kind, Uint8Array.wrap(String.UTF8.encode(text)), correlationId);
}

/** Answers a message: same kind of address, correlation id set to the message's id. */
export function reply(message: Message, kind: string, payload: Uint8Array): void {
  send(message.from, kind, payload, message.id);
}

export function replyText(message: Message, kind: string, text: string): void {
  sendText(message.from, kind, text, message.id);
}

export const DEBUG: i32 = 0;
export const INFO: i32 = 1;
export const WARN: i32 = 2;
export const ERROR: i32 = 3;
export const FATAL: i32 = 4;

/** Handles one kind of message (as `on: { kind: handler }` in the TypeScript SDK). */
export type KindHandler = (message: Message) => void;

const kindHandlers = new Map<string, KindHandler>();
let finishing = false;

/** Handles messages of `kind` with `handler`; kinds without one go to the onMessage handler. */
export function on(kind: string, handler: KindHandler): void {
  kindHandlers.set(kind, handler);
}

/** Ends the agent normally after the message being handled. */
export function finish(): void {
  finishing = true;
}

export function log(text: string, level: i32 = INFO): void {
  const bytes = String.UTF8.encode(text);
  abiLog(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Logical time: the current tick. Never the wall clock. */
export function now(): i64 {
  return abiNow();
}

/** A float in [0, 1) from the agent's seeded stream: the same seed gives the same numbers. */
export function random(): f64 {
  return abiRandom();
}

/** Bytes of a UTF-8 string, for payloads. */
export function utf8(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

// ---- exports required by ABI v1 (given to every agent by wasm/sdk/exports.ts) ----

export function troupe_alloc(size: i32): usize {
  return heap.alloc(<usize>max(size, 1));
}

export function troupe_init(ptr: usize, len: i32): i32 {
  const data = new Uint8Array(len);
  memory.copy(data.dataStart, ptr, len);
  heap.free(ptr);
  const handler = initHandler;
  if (handler) handler(data);
  return 0;
}

export function troupe_handle(ptr: usize, len: i32): i32 {
  const message = readMessage(ptr);
  heap.free(ptr);
  finishing = false;
  if (kindHandlers.has(message.kind)) {
    kindHandlers.get(message.kind)(message);
    return finishing ? 1 : 0;
  }
  const handler = messageHandler;
  if (handler && handler(message)) return 1;
  return finishing ? 1 : 0;
}

/** Replaces AssemblyScript's env.abort (not in the ABI): log the reason as fatal, then trap. */
export function troupeAbort(message: string | null = null, file: string | null = null, line: u32 = 0, column: u32 = 0): void {
  let text = "abort: " + (message ? message : "");
  if (file) text += " at " + file + ":" + line.toString() + ":" + column.toString();
  log(text, FATAL);
  unreachable();
}

export {
  INFER_ERROR_KIND,
  INFER_KIND,
  INFER_RESULT_KIND,
  InferenceError,
  InferenceRequest,
  InferenceResult,
  infer,
  readError,
  readResult,
  Tensor,
} from "./inference";

export {
  ChatMessage,
  cancelGeneration,
  GENERATE_CANCEL_KIND,
  GENERATE_DONE_KIND,
  GENERATE_KIND,
  GENERATE_TOKEN_KIND,
  GeneratedToken,
  GenerateOptions,
  Generation,
  generate,
  generateChat,
  ModelToolCall,
  readGeneration,
  readToken,
  ToolDefinition,
} from "./generate";
