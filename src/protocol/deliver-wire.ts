// Opaque routing: an agent's output is forwarded into the envelope its receiver gets as the bytes
// it came in, never decoded and encoded again. `Output` shares `Envelope`'s field numbers for to
// (3), kind (4), payload (5) and correlation id (6) (proto/troupe/v1/envelope.proto), so a
// delivered envelope is `from` (2), then the output's bytes, then `tick` (7) and `seq` (8): exactly
// what protobufjs would write for the same fields (canonical order, defaults left out), so traces
// and journals are unchanged by the shortcut. Output bytes that are not canonical (fields out of
// order, repeated, empty, unknown: never from our hosts) are not spliced; they are encoded from
// their decoded fields instead, so nothing a host adds can reach a receiver. Outputs are decoded
// here too, in one pass with one object each, rather than by the generated code.
import type { Envelope } from './codec.js';

/** An output's spliceable bytes: to, kind, payload and correlation id as encoded (delay left off). */
export interface WithWire {
  wire?: Uint8Array;
}

/**
 * The message (an Output or an Envelope) with bytes of its own, for one kept past its tick: a
 * payload read off a frame is a view into the whole frame, and would keep the frame with it. Its
 * encoded fields (a view too) are left behind: it is encoded from its fields when it goes out,
 * to the same bytes.
 */
export function ownBytes<T extends { payload?: Uint8Array | null } & WithWire>(message: T): T {
  const { wire: _view, ...fields } = message;
  const payload = message.payload;
  if (payload && payload.byteLength !== payload.buffer.byteLength) fields.payload = payload.slice();
  return fields as T;
}

/** An Output as the supervisor reads it off a host's frame: every field set, one shape. */
export interface DecodedOutput extends WithWire {
  to: string;
  kind: string;
  payload: Uint8Array;
  correlationId: string;
  delayTicks: number;
}

const TO = 3;
const KIND = 4;
const PAYLOAD = 5;
const CORRELATION = 6;
const DELAY = 9;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the Output in bytes[start, end) in one pass, as protobufjs would (unknown fields
 * skipped, the last of a repeated field kept, invalid UTF-8 refused), and notes whether its bytes
 * can be forwarded as they are: when the fields come in order, each at most once and not empty,
 * with nothing unknown, `wire` is the part before the delay. Throws for bytes that do not decode.
 */
export function decodeOutputAt(bytes: Uint8Array, start: number, end: number): DecodedOutput {
  const output: DecodedOutput = {
    to: '',
    kind: '',
    payload: EMPTY,
    correlationId: '',
    delayTicks: 0,
    wire: undefined,
  };
  const cursor = { at: start };
  let last = 0;
  let canonical = true;
  let wireEnd = end;
  while (cursor.at < end) {
    const fieldStart = cursor.at;
    const tag = readVarint(bytes, cursor, end);
    const field = tag >>> 3;
    const type = tag & 7;
    if (field === 0) throw new Error(`an output field numbered 0 at byte ${fieldStart - start}`);
    if (field <= last || (field === DELAY ? type !== 0 : type !== 2 || field < TO || field > CORRELATION))
      canonical = false;
    last = Math.max(last, field);
    if (type === 2) {
      const length = readVarint(bytes, cursor, end);
      if (length > end - cursor.at) throw new RangeError('an output field runs past its end');
      const from = cursor.at;
      cursor.at += length;
      if (length === 0) canonical = false;
      if (field === TO) output.to = text(bytes, from, cursor.at, 0);
      else if (field === KIND) output.kind = text(bytes, from, cursor.at, 1);
      else if (field === PAYLOAD) output.payload = length === 0 ? EMPTY : bytes.subarray(from, cursor.at);
      else if (field === CORRELATION) output.correlationId = text(bytes, from, cursor.at, 2);
    } else if (type === 0) {
      const value = readVarint(bytes, cursor, end);
      if (field === DELAY) {
        output.delayTicks = value;
        if (value === 0 || cursor.at !== end) canonical = false;
        wireEnd = fieldStart;
      }
    } else if (type === 1 || type === 5) {
      cursor.at += type === 1 ? 8 : 4;
      if (cursor.at > end) throw new RangeError('an output field runs past its end');
    } else {
      throw new Error(`an output field of wire type ${type}`);
    }
  }
  if (canonical) output.wire = bytes.subarray(start, wireEnd);
  return output;
}

/** Strings decoded last, per field: a batch's outputs mostly repeat their address and kind. */
const recent: Array<{ bytes: Uint8Array; text: string }> = [
  { bytes: EMPTY, text: '' },
  { bytes: EMPTY, text: '' },
  { bytes: EMPTY, text: '' },
];

function text(bytes: Uint8Array, from: number, to: number, slot: number): string {
  const length = to - from;
  if (length === 0) return '';
  const seen = recent[slot] as { bytes: Uint8Array; text: string };
  if (seen.bytes.length === length) {
    let same = true;
    for (let i = 0; i < length && same; i++) same = seen.bytes[i] === bytes[from + i];
    if (same) return seen.text;
  }
  const view = bytes.subarray(from, to);
  const decoded = utf8.decode(view);
  recent[slot] = { bytes: view.slice(), text: decoded };
  return decoded;
}

function readVarint(bytes: Uint8Array, cursor: { at: number }, end: number): number {
  let value = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    if (cursor.at >= end) throw new RangeError('an output ends inside a number');
    const byte = bytes[cursor.at++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
  throw new Error('an output holds a number longer than 10 bytes');
}

export interface DeliverFields {
  tick: number;
  envelopes: ReadonlyArray<Envelope & WithWire>;
  nextSeq: number;
  stateHash?: boolean;
}

/**
 * `Frame { commands: [{ agent, deliver }] }` encoded in one pass into one buffer of the exact size:
 * byte for byte what protobufjs writes for the same command.
 */
export function encodeDeliverFrame(agent: string, deliver: DeliverFields): Uint8Array {
  const { envelopes } = deliver;
  const sizes = new Array<number>(envelopes.length);
  let deliverSize =
    uintFieldSize(deliver.tick) + uintFieldSize(deliver.nextSeq) + (deliver.stateHash ? 2 : 0);
  for (let i = 0; i < envelopes.length; i++) {
    const size = envelopeSize(envelopes[i] as Envelope & WithWire);
    sizes[i] = size;
    deliverSize += 1 + varintSize(size) + size;
  }
  const agentSize = Buffer.byteLength(agent);
  const commandSize =
    (agentSize > 0 ? 1 + varintSize(agentSize) + agentSize : 0) + 1 + varintSize(deliverSize) + deliverSize;
  const out = Buffer.allocUnsafe(1 + varintSize(commandSize) + commandSize);
  const w = { out, at: 0 };
  tagLength(w, 1, commandSize);
  if (agentSize > 0) stringField(w, 1, agent, agentSize);
  tagLength(w, 3, deliverSize);
  uintField(w, 1, deliver.tick);
  for (let i = 0; i < envelopes.length; i++) {
    tagLength(w, 2, sizes[i] as number);
    writeEnvelope(w, envelopes[i] as Envelope & WithWire);
  }
  if (deliver.stateHash) {
    out[w.at++] = (3 << 3) | 0;
    out[w.at++] = 1;
  }
  uintField(w, 4, deliver.nextSeq);
  if (w.at !== out.length) throw new Error(`deliver frame: wrote ${w.at} of ${out.length} bytes`);
  return out;
}

interface Cursor {
  out: Buffer;
  at: number;
}

function envelopeSize(envelope: Envelope & WithWire): number {
  let size = stringFieldSize(envelope.from) + uintFieldSize(envelope.tick) + uintFieldSize(envelope.seq);
  if (envelope.wire) return size + envelope.wire.length;
  size +=
    stringFieldSize(envelope.to) + stringFieldSize(envelope.kind) + stringFieldSize(envelope.correlationId);
  const payload = envelope.payload?.length ?? 0;
  return payload > 0 ? size + 1 + varintSize(payload) + payload : size;
}

function writeEnvelope(w: Cursor, envelope: Envelope & WithWire): void {
  stringFieldIfSet(w, 2, envelope.from);
  if (envelope.wire) {
    w.out.set(envelope.wire, w.at);
    w.at += envelope.wire.length;
  } else {
    stringFieldIfSet(w, 3, envelope.to);
    stringFieldIfSet(w, 4, envelope.kind);
    const payload = envelope.payload;
    if (payload && payload.length > 0) {
      tagLength(w, 5, payload.length);
      w.out.set(payload, w.at);
      w.at += payload.length;
    }
    stringFieldIfSet(w, 6, envelope.correlationId);
  }
  uintField(w, 7, envelope.tick);
  uintField(w, 8, envelope.seq);
}

function stringFieldSize(text: string | null | undefined): number {
  if (!text) return 0;
  const length = Buffer.byteLength(text);
  return 1 + varintSize(length) + length;
}

function stringFieldIfSet(w: Cursor, field: number, text: string | null | undefined): void {
  if (text) stringField(w, field, text, Buffer.byteLength(text));
}

function stringField(w: Cursor, field: number, text: string, length: number): void {
  tagLength(w, field, length);
  w.at += w.out.write(text, w.at, length, 'utf8');
}

function tagLength(w: Cursor, field: number, length: number): void {
  w.out[w.at++] = (field << 3) | 2;
  writeVarint(w, length);
}

function uintFieldSize(value: number | null | undefined): number {
  return value ? 1 + varintSize(value) : 0;
}

function uintField(w: Cursor, field: number, value: number | null | undefined): void {
  if (!value) return;
  w.out[w.at++] = field << 3;
  writeVarint(w, value);
}

/** Varints of whole numbers up to 2^53 (ticks and sequence numbers stay far below). */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(w: Cursor, value: number): void {
  while (value >= 128) {
    w.out[w.at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  w.out[w.at++] = value;
}
