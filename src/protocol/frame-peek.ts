// Reads who a frame is for without decoding it: the agent of its first command or event, and what
// the first command is. A shared host thread carries frames for many agents; its launcher routes
// each to its agent with this and leaves the decoding (and its checks) to the supervisor.
//
// Wire shapes (proto/troupe/v1/host.proto): Frame { HostCommand commands = 1; HostEvent events =
// 2 }; HostCommand and HostEvent { string agent = 1; ... }; HostCommand's body is load = 2,
// deliver = 3 or stop = 4.

export type CommandKind = 'load' | 'deliver' | 'stop';

export interface FramePeek {
  agent: string;
  /** The first command's kind, for a frame of commands. */
  command?: CommandKind;
}

const COMMANDS: Record<number, CommandKind> = { 2: 'load', 3: 'deliver', 4: 'stop' };
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Undefined when the frame does not start as a frame of ours would. */
export function peekFrame(bytes: Uint8Array): FramePeek | undefined {
  const reader = { at: 0 };
  const outer = varint(bytes, reader);
  if (outer !== 0x0a && outer !== 0x12) return undefined;
  const length = varint(bytes, reader);
  if (length === undefined) return undefined;
  const end = reader.at + length;
  if (end > bytes.length || varint(bytes, reader) !== 0x0a) return undefined;
  const nameLength = varint(bytes, reader);
  if (nameLength === undefined || reader.at + nameLength > end) return undefined;
  const name = bytes.subarray(reader.at, reader.at + nameLength);
  let agent: string;
  // Agent names are ASCII (config NAME_PATTERN): the common case needs no UTF-8 decoder.
  if (name.every((byte) => byte < 0x80)) {
    agent = Buffer.from(name.buffer, name.byteOffset, name.length).toString('latin1');
  } else {
    try {
      agent = decoder.decode(name);
    } catch {
      return undefined;
    }
  }
  reader.at += nameLength;
  if (outer === 0x12) return { agent };
  const tag = varint(bytes, reader);
  // A command body is a length-delimited field (wire type 2) numbered 2, 3 or 4.
  const command = tag !== undefined && (tag & 7) === 2 ? COMMANDS[tag >>> 3] : undefined;
  return command ? { agent, command } : { agent };
}

/** Whether a frame of commands starts with a Stop (its agent's name is skipped, not read). */
export function isStopCommand(bytes: Uint8Array): boolean {
  const reader = { at: 0 };
  if (varint(bytes, reader) !== 0x0a || varint(bytes, reader) === undefined) return false;
  if (varint(bytes, reader) !== 0x0a) return false;
  const nameLength = varint(bytes, reader);
  if (nameLength === undefined) return false;
  reader.at += nameLength;
  return varint(bytes, reader) === ((4 << 3) | 2);
}

/** A varint of up to 32 bits, or undefined past the end. */
function varint(bytes: Uint8Array, reader: { at: number }): number | undefined {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (reader.at >= bytes.length) return undefined;
    const byte = bytes[reader.at++] as number;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return value >>> 0;
  }
  return undefined;
}
