// Fast reads and writes of ABI message blocks in an agent's linear memory. The views are cached
// and renewed only when memory.grow detached them; short ASCII strings skip TextEncoder/Decoder,
// whose per-call cost dominated small messages (see bench/).
import { BLOCK_FIELDS } from '../abi/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class WasmMemory {
  readonly #memory: WebAssembly.Memory;
  #bytes: Uint8Array;
  #view: DataView;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
    this.#bytes = new Uint8Array(memory.buffer);
    this.#view = new DataView(memory.buffer);
  }

  get size(): number {
    return this.#current().length;
  }

  /** Upper bound of the block size for these fields, to allocate before writing. */
  static blockBound(strings: readonly string[], payload: Uint8Array): number {
    let size = 4 * (strings.length + 1) + payload.length;
    for (const text of strings) size += text.length * 3;
    return size;
  }

  /** Writes [strings..., payload] as length-prefixed fields at ptr; returns the bytes written. */
  writeBlock(ptr: number, strings: readonly string[], payload: Uint8Array): number {
    const bytes = this.#current();
    let at = ptr;
    for (const text of strings) {
      const written = writeUtf8(bytes, at + 4, text);
      this.#view.setUint32(at, written, true);
      at += 4 + written;
    }
    this.#view.setUint32(at, payload.length, true);
    bytes.set(payload, at + 4);
    return at + 4 + payload.length - ptr;
  }

  /** Reads [string, string, string, bytes] at ptr; undefined when the lengths run past the block. */
  readBlock(ptr: number, length: number): [string, string, string, Uint8Array] | undefined {
    const bytes = this.#current();
    const end = ptr + length;
    if (ptr < 0 || length < 0 || end > bytes.length) return undefined;
    const fields: Array<string | Uint8Array> = [];
    let at = ptr;
    for (let i = 0; i < BLOCK_FIELDS; i++) {
      if (at + 4 > end) return undefined;
      const size = this.#view.getUint32(at, true);
      const start = at + 4;
      if (start + size > end) return undefined;
      fields.push(i < BLOCK_FIELDS - 1 ? readUtf8(bytes, start, size) : bytes.slice(start, start + size));
      at = start + size;
    }
    return at === end ? (fields as [string, string, string, Uint8Array]) : undefined;
  }

  writeBytes(ptr: number, data: Uint8Array): void {
    this.#current().set(data, ptr);
  }

  readText(ptr: number, length: number): string {
    const bytes = this.#current();
    if (ptr < 0 || length < 0 || ptr + length > bytes.length)
      throw new RangeError('log text is out of bounds');
    return readUtf8(bytes, ptr, length);
  }

  #current(): Uint8Array {
    // memory.grow detaches the old buffer, which then reads as length 0. (Comparing buffers
    // instead would call the memory.buffer getter per message, which shows in profiles.)
    if (this.#bytes.length === 0) {
      this.#bytes = new Uint8Array(this.#memory.buffer);
      this.#view = new DataView(this.#memory.buffer);
    }
    return this.#bytes;
  }
}

function writeUtf8(target: Uint8Array, at: number, text: string): number {
  const length = text.length;
  if (length <= 64) {
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      target[at + i] = code;
    }
    if (i === length) return length;
  }
  return encoder.encodeInto(text, target.subarray(at, at + length * 3)).written;
}

function readUtf8(source: Uint8Array, start: number, length: number): string {
  if (length <= 64) {
    let text = '';
    for (let i = 0; i < length; i++) {
      const byte = source[start + i] as number;
      if (byte >= 0x80) return decoder.decode(source.subarray(start, start + length));
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return decoder.decode(source.subarray(start, start + length));
}
