// The traffic of every host a coordinator runs on one node, both ways, over one reliable link
// (reliable-link.ts): the records written in one turn of the event loop (a tick's frames to all
// the node's hosts, or the frames its hosts answered with) travel as one NATS message (several
// of at most 512 KiB each when they are more: record-stream.ts), so the cost per tick is per
// node, not per agent. A record is
//   [u8 kind][u8 host id length][host id][u32 payload length, little-endian][payload]
// kinds: a frame, or the end of a host (towards the node: kill it; from it: its exit, as JSON).
// Records keep their order, each arrives once, and a nats-server restart loses none (the link's
// resends). A channel has an id of its own, chosen by the coordinator when it first starts a host
// on the node: a node counted lost and back gets a new channel, never the old one's sequence.
import { cutMessages, RecordReader } from './record-stream.js';
import { LinkKind, ReliableLink } from './reliable-link.js';

export const RecordKind = { Frame: 0, End: 1 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/**
 * Bytes of records in one message at most (NATS refuses messages over the server's max_payload,
 * 1 MB by default): more, and a record larger than this, go in several (record-stream.ts).
 */
export const MESSAGE_BYTES = 512 * 1024;

export type RecordHandler = (kind: RecordKind, payload: Uint8Array) => void;

export class HostChannel {
  readonly #link: ReliableLink;
  readonly #hosts = new Map<string, RecordHandler>();
  readonly #unknown: (host: string, kind: RecordKind) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #reader = new RecordReader();
  #flush = false;
  #closed = false;

  /** `unknown` hears of a record for a host not attached here (gone, or never started). */
  constructor(
    publish: (bytes: Uint8Array) => void,
    unknown: (host: string, kind: RecordKind) => void = () => {},
  ) {
    this.#unknown = unknown;
    this.#link = new ReliableLink({ publish, deliver: (_kind, payload) => this.#deliver(payload) });
  }

  /** Records for `host` go to `handler` from now on. */
  attach(host: string, handler: RecordHandler): void {
    if (Buffer.byteLength(host, 'latin1') > 255)
      throw new Error(`host id "${host}" is longer than 255 bytes`);
    this.#hosts.set(host, handler);
  }

  detach(host: string): void {
    this.#hosts.delete(host);
  }

  /** The hosts attached. */
  get hosts(): string[] {
    return [...this.#hosts.keys()];
  }

  /** Queues a record; what is queued in this turn of the event loop goes as one message. */
  send(host: string, kind: RecordKind, payload: Uint8Array): void {
    if (this.#closed) return;
    const id = Buffer.from(host, 'latin1');
    const head = Buffer.allocUnsafe(6 + id.length);
    head[0] = kind;
    head[1] = id.length;
    id.copy(head, 2);
    head.writeUInt32LE(payload.length, 2 + id.length);
    this.#pending.push(head, Buffer.from(payload.buffer, payload.byteOffset, payload.length));
    this.#pendingBytes += head.length + payload.length;
    if (!this.#flush) {
      this.#flush = true;
      queueMicrotask(() => this.#send());
    }
  }

  receive(bytes: Uint8Array): void {
    if (!this.#closed) this.#link.receive(bytes);
  }

  /** The connection to NATS is back: what may have been lost is sent again. */
  resume(): void {
    this.#link.resume();
  }

  close(): void {
    this.#closed = true;
    this.#flush = false;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#hosts.clear();
    this.#link.close();
  }

  #send(): void {
    this.#flush = false;
    if (this.#pendingBytes === 0) return;
    // The link joins the records behind its own header: one copy of a turn's frames, not two.
    const parts = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const message of cutMessages(parts, MESSAGE_BYTES)) this.#link.send(LinkKind.Frame, message);
  }

  #deliver(message: Uint8Array): void {
    for (const { kind, host, payload } of this.#reader.push(message)) {
      if (this.#closed) return;
      const handler = this.#hosts.get(host);
      if (handler) handler(kind as RecordKind, payload);
      else this.#unknown(host, kind as RecordKind);
    }
  }
}
