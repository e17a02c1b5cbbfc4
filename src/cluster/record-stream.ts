// A host channel's records as a stream cut into messages of bounded size (pure): NATS refuses a
// message over the server's max_payload (1 MB by default), and one frame alone can be larger
// (a batch of big envelopes, a snapshot), so a record may span messages. The reliable link
// delivers the messages once and in order, and the reader joins what spans them.
//   record: [u8 kind][u8 host id length][host id][u32 payload length, little-endian][payload]

export interface ChannelRecord {
  kind: number;
  host: string;
  payload: Uint8Array;
}

/** The parts of a stream, cut into messages of at most `max` bytes each (views, not copies). */
export function cutMessages(parts: readonly Uint8Array[], max: number): Uint8Array[][] {
  const messages: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let room = max;
  for (const part of parts) {
    for (let at = 0; at < part.length; ) {
      const take = Math.min(room, part.length - at);
      current.push(at === 0 && take === part.length ? part : part.subarray(at, at + take));
      at += take;
      room -= take;
      if (room === 0) {
        messages.push(current);
        current = [];
        room = max;
      }
    }
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

/** The longest record header: kind, id length, a 255-byte id, the payload's length. */
const HEADER_MAX = 6 + 255;

const latin1 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');

/** Joins messages back into records; what ends mid-record waits for the next message. */
export class RecordReader {
  /** The start of a record that did not fit its message, and its bytes so far. */
  #carry: Buffer[] = [];
  #carryBytes = 0;

  /** Bytes waiting for the rest of their record. */
  get waiting(): number {
    return this.#carryBytes;
  }

  /** The records `message` completes, in order. */
  push(message: Uint8Array): ChannelRecord[] {
    const view = Buffer.from(message.buffer, message.byteOffset, message.length);
    if (this.#carryBytes === 0) return this.#parse(view);
    this.#carry.push(view);
    this.#carryBytes += view.length;
    const need = this.#needed();
    if (need === undefined || this.#carryBytes < need) return [];
    const joined = Buffer.concat(this.#carry, this.#carryBytes);
    this.#carry = [];
    this.#carryBytes = 0;
    return this.#parse(joined);
  }

  #parse(view: Buffer): ChannelRecord[] {
    const records: ChannelRecord[] = [];
    let at = 0;
    for (let end = recordEnd(view, at); end !== undefined && end <= view.length; end = recordEnd(view, at)) {
      const idLength = view[at + 1] as number;
      const start = at + 6 + idLength;
      // The only record is the message itself; others get a copy of their own (a view would carry
      // the whole message along: a thread's postMessage clones the view's entire buffer).
      const only = at === 0 && end === view.length;
      records.push({
        kind: view[at] as number,
        host: latin1(view.subarray(at + 2, at + 2 + idLength)),
        payload: only ? view.subarray(start) : new Uint8Array(view.subarray(start, end)),
      });
      at = end;
    }
    if (at < view.length) {
      // Copied: the message it came in is not kept alive by it.
      this.#carry = [Buffer.from(view.subarray(at))];
      this.#carryBytes = view.length - at;
    }
    return records;
  }

  /** The whole length of the carried record, once its header is all there (joined if split). */
  #needed(): number | undefined {
    if ((this.#carry[0]?.length ?? 0) < HEADER_MAX && this.#carry.length > 1)
      this.#carry = [Buffer.concat(this.#carry, this.#carryBytes)];
    return recordEnd(this.#carry[0] as Buffer, 0);
  }
}

/** Where the record starting at `at` ends, or undefined when its header is not all there. */
function recordEnd(view: Buffer, at: number): number | undefined {
  if (at + 2 > view.length) return undefined;
  const idLength = view[at + 1] as number;
  if (at + 6 + idLength > view.length) return undefined;
  return at + 6 + idLength + view.readUInt32LE(at + 2 + idLength);
}
