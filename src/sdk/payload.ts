// Payloads are bytes on the wire; in JavaScript they are strings (UTF-8), bytes, or anything else
// as JSON. Received payloads read back the same ways.
import { decodeUtf8, encodeUtf8 } from './utf8.js';

/** What `send` takes: text, bytes, or a value sent as JSON. */
export type Payload =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | number
  | boolean
  | null
  | object
  | undefined;

const EMPTY = new Uint8Array(0);

export function encodeText(text: string): Uint8Array {
  return encodeUtf8(text);
}

export function decodeText(bytes: Uint8Array): string {
  return decodeUtf8(bytes);
}

export function toBytes(payload: Payload): Uint8Array {
  if (payload === undefined) return EMPTY;
  if (typeof payload === 'string') return encodeText(payload);
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload))
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  return encodeText(JSON.stringify(payload));
}

/** The bytes as an ArrayBuffer of exactly their length (a copy when they are a view). */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
    return bytes.buffer as ArrayBuffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Bytes read as text or JSON: a received message's payload, or the agent's init data. */
export class Data<T = unknown> {
  constructor(readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.byteLength;
  }

  text(): string {
    return decodeText(this.bytes);
  }

  /** The payload parsed as JSON; throws naming what it is when it is not JSON. */
  json(): T {
    const text = this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
      throw new SyntaxError(`payload is not JSON (${(error as Error).message}): ${JSON.stringify(shown)}`);
    }
  }
}
