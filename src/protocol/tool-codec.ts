// Tool host frames (proto/troupe/v1/tools.proto): MCP servers started and their tools called.

import { errorText } from './error-text.js';
import { troupe } from './generated/troupe.js';

const v1 = troupe.v1;

export type ToolFrame = troupe.v1.IToolFrame;
export type ToolCommand = troupe.v1.IToolCommand;
export type ToolEvent = troupe.v1.IToolEvent;
export type ToolServerWire = troupe.v1.IToolServer;
export type ToolAnswerWire = troupe.v1.IToolAnswer;

export function encodeToolFrame(frame: ToolFrame): Uint8Array {
  return v1.ToolFrame.encode(frame).finish();
}

export function decodeToolFrame(
  bytes: unknown,
): { ok: true; frame: troupe.v1.ToolFrame } | { ok: false; error: string } {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'tool host frame is not binary' };
  try {
    const frame = v1.ToolFrame.decode(bytes);
    if (frame.commands.some((command) => !command.command) || frame.events.some((event) => !event.event)) {
      return { ok: false, error: 'tool host frame carries an empty command or event' };
    }
    return { ok: true, frame };
  } catch (error) {
    return {
      ok: false,
      error: `tool host frame of ${bytes.length} bytes does not decode: ${errorText(error)}`,
    };
  }
}

/** Tool servers are addressed "@tool/<server>"; their answers come from that address. */
export const TOOL_PREFIX = '@tool/';
/** A call: a JSON object `{ "tool": name, "arguments": {…} }`, to "@tool/<server>". */
export const TOOL_CALL_KIND = 'troupe/tool.call';
/** The answer: the tool's `CallToolResult` as JSON (correlation id: the call's envelope id). */
export const TOOL_RESULT_KIND = 'troupe/tool.result';
/** No result: JSON `{ "code", "message" }` (NOT_GRANTED, UNKNOWN_SERVER, BAD_CALL, TOOL_ERROR, TIMEOUT, TOO_LARGE, LOST, FAILED). */
export const TOOL_ERROR_KIND = 'troupe/tool.error';

/** A tool error's payload. */
export function encodeToolError(code: string, message: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ code, message }));
}

/** A call's payload, or why it is not one. */
export function decodeToolCall(
  payload: Uint8Array | null | undefined,
): { ok: true; tool: string; arguments: Record<string, unknown> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload ?? new Uint8Array(0)));
  } catch (error) {
    return { ok: false, error: `a tool call is a JSON object { "tool", "arguments" }: ${errorText(error)}` };
  }
  const call = value as { tool?: unknown; arguments?: unknown };
  if (typeof call !== 'object' || call === null || typeof call.tool !== 'string' || call.tool === '')
    return { ok: false, error: 'a tool call is a JSON object { "tool", "arguments" } with the tool named' };
  const args = call.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    return { ok: false, error: `the arguments of tool "${call.tool}" must be a JSON object` };
  return { ok: true, tool: call.tool, arguments: args as Record<string, unknown> };
}
