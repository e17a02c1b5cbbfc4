// The byte layout between an agent's host and the SDK, so a whole batch goes in and a message's
// sends come out in one call each: fields as a little-endian u32 length then the bytes (the
// same framing as ABI v1's message blocks, docs/abi.md). A batch holds per message
// [from, kind, id, correlation id, payload]; outputs hold per send [to, kind, correlation id,
// delay in ticks (a bare u32), payload].
import type { TextSpans } from './message.js';
import { decodeUtf8, utf8Length, writeUtf8 } from './utf8.js';

/**
 * Reads `count` messages from a batch, calling `each` with the index, kind, payload and where
 * the other text fields are; the payload is a view into the batch.
 */
export function readBatch(
  batch: Uint8Array,
  count: number,
  each: (index: number, kind: string, payload: Uint8Array, spans: TextSpans) => boolean,
): number {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let at = 0;
  for (let index = 0; index < count; index++) {
    const fromEnd = at + 4 + view.getUint32(at, true);
    const kindEnd = fromEnd + 4 + view.getUint32(fromEnd, true);
    const idEnd = kindEnd + 4 + view.getUint32(kindEnd, true);
    const correlationEnd = idEnd + 4 + view.getUint32(idEnd, true);
    const payloadEnd = correlationEnd + 4 + view.getUint32(correlationEnd, true);
    const kind = decodeUtf8(batch, fromEnd + 4, kindEnd);
    const spans: TextSpans = [at + 4, fromEnd, kindEnd + 4, idEnd, idEnd + 4, correlationEnd];
    at = payloadEnd;
    if (!each(index, kind, batch.subarray(correlationEnd + 4, payloadEnd), spans)) return index + 1;
  }
  return count;
}

/** The sends of one message, framed as they are added. */
export class OutputBuffer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  count = 0;

  add(to: string, kind: string, correlationId: string, payload: Uint8Array, delay = 0): void {
    const need = 20 + utf8Length(to) + utf8Length(kind) + utf8Length(correlationId) + payload.byteLength;
    this.#reserve(need);
    this.#text(to);
    this.#text(kind);
    this.#text(correlationId);
    this.#view.setUint32(this.#length, delay, true);
    this.#length += 4;
    this.#view.setUint32(this.#length, payload.byteLength, true);
    this.#bytes.set(payload, this.#length + 4);
    this.#length += 4 + payload.byteLength;
    this.count++;
  }

  /** What was added since the last take, as its own ArrayBuffer (undefined when nothing was). */
  take(): ArrayBuffer | undefined {
    if (this.count === 0) return undefined;
    const taken = this.#bytes.slice(0, this.#length).buffer as ArrayBuffer;
    this.#length = 0;
    this.count = 0;
    return taken;
  }

  #text(value: string): void {
    const end = writeUtf8(this.#bytes, this.#length + 4, value);
    this.#view.setUint32(this.#length, end - this.#length - 4, true);
    this.#length = end;
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#length + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}
