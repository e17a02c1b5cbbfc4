// The host's side of the layout src/sdk/blocks.ts reads and writes inside the sandbox: a batch of
// envelopes framed for the SDK, and the SDK's framed sends read back. Fields are a little-endian
// u32 length, then the bytes.
import type { Envelope, Output } from '../protocol/index.js';

const EMPTY = new Uint8Array(0);

/** Per envelope: from, kind, id, correlation id, payload. */
export function encodeBatch(envelopes: readonly Envelope[], ids: readonly string[]): Uint8Array {
  let size = 0;
  envelopes.forEach((envelope, index) => {
    size += 20 + Buffer.byteLength(envelope.from ?? '') + Buffer.byteLength(envelope.kind ?? '');
    size += Buffer.byteLength(ids[index] ?? '') + Buffer.byteLength(envelope.correlationId ?? '');
    size += envelope.payload?.length ?? 0;
  });
  const batch = Buffer.allocUnsafe(size);
  let at = 0;
  const text = (value: string) => {
    const length = batch.write(value, at + 4, 'utf8');
    batch.writeUInt32LE(length, at);
    at += 4 + length;
  };
  envelopes.forEach((envelope, index) => {
    text(envelope.from ?? '');
    text(envelope.kind ?? '');
    text(ids[index] ?? '');
    text(envelope.correlationId ?? '');
    const payload = envelope.payload ?? EMPTY;
    batch.writeUInt32LE(payload.length, at);
    batch.set(payload, at + 4);
    at += 4 + payload.length;
  });
  return batch;
}

/** Per send: to, kind, correlation id, delay (a bare u32), payload; throws naming a malformed frame. */
export function decodeOutputs(bytes: Uint8Array): Output[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const outputs: Output[] = [];
  let at = 0;
  const field = (): Buffer => {
    if (at + 4 > data.length) throw new RangeError('malformed sends from the SDK: a field is cut short');
    const length = data.readUInt32LE(at);
    const start = at + 4;
    if (start + length > data.length)
      throw new RangeError('malformed sends from the SDK: a field is cut short');
    at = start + length;
    return data.subarray(start, at);
  };
  while (at < data.length) {
    const to = field().toString('utf8');
    const kind = field().toString('utf8');
    const correlationId = field().toString('utf8');
    if (at + 4 > data.length) throw new RangeError('malformed sends from the SDK: a delay is cut short');
    const delayTicks = data.readUInt32LE(at);
    at += 4;
    const payload = new Uint8Array(field());
    outputs.push(
      delayTicks > 0
        ? { to, kind, correlationId, payload, delayTicks }
        : { to, kind, correlationId, payload },
    );
  }
  return outputs;
}
