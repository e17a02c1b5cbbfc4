// Calling tools of MCP servers (docs/tools.md): `callTool` sends a call to "@tool/<server>" and
// returns its id; the answer comes back as a TOOL_RESULT_KIND or TOOL_ERROR_KIND message whose
// correlation id is that id, read with `readToolResult` and `readToolError`.
import { nextId, send } from "./send";
import { JSON_ARRAY, JSON_OBJECT, jsonString, parseJson } from "./json";
import { Message } from "./message";

export const TOOL_CALL_KIND = "troupe/tool.call";
export const TOOL_RESULT_KIND = "troupe/tool.result";
export const TOOL_ERROR_KIND = "troupe/tool.error";

/**
 * Calls `tool` of `server` with its arguments, a JSON object's text (e.g. from jsonString for the
 * values); returns the call's id. The agent needs the server or the tool in capabilities.tools.
 */
export function callTool(server: string, tool: string, argumentsJson: string = "{}"): string {
  const call = '{"tool":' + jsonString(tool) + ',"arguments":' + argumentsJson + "}";
  const id = nextId();
  send("@tool/" + server, TOOL_CALL_KIND, Uint8Array.wrap(String.UTF8.encode(call)));
  return id;
}

export class ToolResult {
  /** The call's id (what callTool returned). */
  requestId: string = "";
  /** The text blocks of its content, joined with newlines. */
  text: string = "";
  /** The whole answer: MCP's CallToolResult as JSON. */
  json: string = "";
}

export class ToolError {
  requestId: string = "";
  /** NOT_GRANTED, UNKNOWN_SERVER, BAD_CALL, TOOL_ERROR, TIMEOUT, TOO_LARGE, LOST or FAILED. */
  code: string = "";
  message: string = "";
}

export function readToolResult(message: Message): ToolResult {
  const result = new ToolResult();
  result.requestId = message.correlationId;
  result.json = message.text();
  const parsed = parseJson(result.json);
  const content = parsed != null && parsed.kind == JSON_OBJECT ? parsed.get("content") : null;
  if (content == null || content.kind != JSON_ARRAY) return result;
  const texts: string[] = [];
  for (let i = 0; i < content.items.length; i++) {
    const block = content.items[i];
    if (block.kind == JSON_OBJECT && block.text("type") == "text") texts.push(block.text("text"));
  }
  result.text = texts.join("\n");
  return result;
}

export function readToolError(message: Message): ToolError {
  const error = new ToolError();
  error.requestId = message.correlationId;
  const parsed = parseJson(message.text());
  if (parsed == null || parsed.kind != JSON_OBJECT) {
    error.code = "FAILED";
    error.message = message.text();
    return error;
  }
  error.code = parsed.text("code", "FAILED");
  error.message = parsed.text("message");
  return error;
}
