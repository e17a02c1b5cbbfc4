// Encoding and checked decoding of frames; the only module that touches the generated code.
import protobuf from 'protobufjs/minimal.js';
import { decodeOutputAt, type WithWire } from './deliver-wire.js';
import { errorText } from './error-text.js';
import { troupe } from './generated/troupe.js';

// Ticks and sequence numbers stay far below 2^53; plain numbers avoid Long objects on hot paths.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const v1 = troupe.v1;

// Outputs are decoded by deliver-wire.ts, which keeps their encoded envelope fields to forward as
// they are; the generated decoders of frames call it through this hook.
v1.Output.decode = ((reader: protobuf.Reader | Uint8Array, length?: number) => {
  const source = reader instanceof protobuf.Reader ? reader : protobuf.Reader.create(reader);
  const start = source.pos;
  const end = length === undefined ? source.len : start + length;
  if (end > source.len) throw new RangeError('index out of range');
  const output = decodeOutputAt(source.buf, start, end);
  source.pos = end;
  return output;
}) as unknown as typeof v1.Output.decode;

export type Envelope = troupe.v1.IEnvelope;
export type Output = troupe.v1.IOutput & WithWire;
export type HostCommand = troupe.v1.IHostCommand;
export type HostEvent = troupe.v1.IHostEvent;
export type Frame = troupe.v1.IFrame;

/** A frame that failed to decode or to pass the structural checks, named for the error report. */
export type DecodeResult = { ok: true; frame: troupe.v1.Frame } | { ok: false; error: string };

/** The id of an envelope: "<from>#<seq>", unique and deterministic. */
export function envelopeId(envelope: Envelope): string {
  return `${envelope.from ?? ''}#${envelope.seq ?? 0}`;
}

export function encodeFrame(frame: Frame): Uint8Array {
  return v1.Frame.encode(frame).finish();
}

export function encodeCommand(command: HostCommand): Uint8Array {
  return v1.Frame.encode({ commands: [command] }).finish();
}

export function decodeFrame(bytes: unknown): DecodeResult {
  if (!(bytes instanceof Uint8Array)) {
    return { ok: false, error: `frame is not binary (got ${describe(bytes)})` };
  }
  let frame: troupe.v1.Frame;
  try {
    frame = v1.Frame.decode(bytes);
  } catch (error) {
    return {
      ok: false,
      error: `frame of ${bytes.length} bytes does not decode: ${errorText(error)}`,
    };
  }
  const problem = checkFrame(frame);
  return problem ? { ok: false, error: problem } : { ok: true, frame };
}

// Protobuf accepts many byte strings that are not meaningful frames; these checks catch the rest.
function checkFrame(frame: troupe.v1.Frame): string | undefined {
  if (frame.commands.length === 0 && frame.events.length === 0) return 'frame is empty';
  for (const command of frame.commands) {
    if (!command.agent) return 'command names no agent';
    if (!command.command) return `command for "${command.agent}" carries no body`;
  }
  for (const event of frame.events) {
    if (!event.agent) return 'event names no agent';
    if (!event.event) return `event for "${event.agent}" carries no body`;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
