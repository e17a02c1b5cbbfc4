// A received message, decoded from an ABI v1 message block.
import { abiCorrelation } from "./abi";

export class Message {
  constructor(
    public from: string,
    public kind: string,
    public id: string,
    public payload: Uint8Array,
  ) {}

  /**
   * The id of the message this one answers ("" when none), e.g. the id `infer` returned. Read it
   * while handling the message: it is asked of the host for the message being handled.
   */
  get correlationId(): string {
    return readText((ptr: usize, capacity: i32): i32 => abiCorrelation(ptr, capacity));
  }

  /** The payload read as UTF-8 text. */
  text(): string {
    return String.UTF8.decode(this.payload.buffer);
  }
}

/** Reads the four length-prefixed fields [peer, kind, id, payload] at ptr. */
export function readMessage(ptr: usize): Message {
  let at = ptr;
  const from = readString(at);
  at += 4 + load<u32>(at);
  const kind = readString(at);
  at += 4 + load<u32>(at);
  const id = readString(at);
  at += 4 + load<u32>(at);
  const size = load<u32>(at);
  const payload = new Uint8Array(size);
  memory.copy(payload.dataStart, at + 4, size);
  return new Message(from, kind, id, payload);
}

function readString(at: usize): string {
  return String.UTF8.decodeUnsafe(at + 4, load<u32>(at));
}

/** Text the host writes into a buffer (its length returned); a second call when it did not fit. */
export function readText(read: (ptr: usize, capacity: i32) => i32): string {
  let buffer = new Uint8Array(256);
  const length = read(buffer.dataStart, buffer.length);
  if (length > buffer.length) {
    buffer = new Uint8Array(length);
    read(buffer.dataStart, buffer.length);
  }
  return String.UTF8.decode(buffer.buffer.slice(0, length));
}
