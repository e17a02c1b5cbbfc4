// The byte layout between an agent's host and the SDK, so a whole batch goes in and a message's
// sends come out in one call each: fields as a little-endian u32 length then the bytes (the
// same framing as ABI v1's message blocks, docs/abi.md). A batch holds per message
// [from, kind, id, correlation id, payload]; outputs hold per send [to, kind, correlation id, payload].
import { decodeUtf8, utf8Length, writeUtf8 } from './utf8.js';

export interface Incoming {
  from: string;
  kind: string;
  id: string;
  correlationId: string;
  payload: Uint8Array;
}

/** Reads `count` messages from a batch. */
export function readBatch(batch: Uint8Array, count: number): Incoming[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const messages: Incoming[] = [];
  let at = 0;
  const field = (): [number, number] => {
    const length = view.getUint32(at, true);
    const start = at + 4;
    at = start + length;
    return [start, at];
  };
  const text = () => {
    const [start, end] = field();
    return decodeUtf8(batch, start, end);
  };
  for (let i = 0; i < count; i++) {
    const from = text();
    const kind = text();
    const id = text();
    const correlationId = text();
    const [start, end] = field();
    messages.push({ from, kind, id, correlationId, payload: batch.subarray(start, end) });
  }
  return messages;
}

/** The sends of one message, framed as they are added. */
export class OutputBuffer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  count = 0;

  add(to: string, kind: string, correlationId: string, payload: Uint8Array): void {
    const need = 16 + utf8Length(to) + utf8Length(kind) + utf8Length(correlationId) + payload.byteLength;
    this.#reserve(need);
    this.#text(to);
    this.#text(kind);
    this.#text(correlationId);
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
