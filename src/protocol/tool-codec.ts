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
