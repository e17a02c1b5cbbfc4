// Calling tools of MCP servers (docs/tools.md): `ctx.callTool` sends a call to "@tool/<server>";
// its answer comes back as a message to this agent, TOOL_RESULT or TOOL_ERROR, whose
// `correlationId` is the id `callTool` returned.
import type { Message } from './message.js';

export const TOOL_CALL = 'troupe/tool.call';
export const TOOL_RESULT = 'troupe/tool.result';
export const TOOL_ERROR = 'troupe/tool.error';

/** A tool's answer: MCP's `CallToolResult`. */
export interface ToolResult {
  /** The call's id (what `callTool` returned). */
  request: string;
  /** What the tool returned: text blocks and others (images, resources) as MCP describes them. */
  content: Array<{ type: string; text?: string; [field: string]: unknown }>;
  /** Structured output, when the tool declares an output schema. */
  structuredContent?: unknown;
  /** The text blocks, joined with newlines. */
  text: string;
}

/** Why a call has no result. */
export interface ToolError {
  request: string;
  /**
   * NOT_GRANTED, UNKNOWN_SERVER, BAD_CALL (refused before it went out); TOOL_ERROR (the tool
   * reported an error), TIMEOUT, TOO_LARGE, LOST (its server or the tool host ended during the
   * call: it was not retried, the tool may have acted), FAILED.
   */
  code: string;
  message: string;
}

/** The result in a TOOL_RESULT message. */
export function readToolResult(message: Message): ToolResult {
  const result = message.json() as { content?: ToolResult['content']; structuredContent?: unknown };
  const content = result.content ?? [];
  const text = content
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('\n');
  return {
    request: message.correlationId,
    content,
    text,
    ...(result.structuredContent === undefined ? {} : { structuredContent: result.structuredContent }),
  };
}

/** The error in a TOOL_ERROR message. */
export function readToolError(message: Message): ToolError {
  const { code = 'FAILED', message: text = '' } = message.json() as { code?: string; message?: string };
  return { request: message.correlationId, code, message: text };
}
