// A received message, decoded from an ABI v1 message block.

export class Message {
  constructor(
    public from: string,
    public kind: string,
    public id: string,
    public payload: Uint8Array,
  ) {}

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
