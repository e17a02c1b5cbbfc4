// One direction pair of a remote host's traffic over NATS, made reliable. Core NATS delivers at
// most once: what is in flight when a nats-server restarts is gone, and the client drops what it
// buffered while disconnected. So every message carries a sequence number, and the other side's
// cumulative acknowledgement rides on the next message back (or goes alone after ACK_DELAY_MS).
// A message not acknowledged is sent again (after RESEND_MS, backing off to RESEND_MAX_MS while
// nothing is acknowledged, and at once when the connection comes back); the receiver delivers
// each sequence number once and in order: it drops repeats and keeps what comes past a gap until
// the gap is filled.
// So no frame is lost or delivered twice, whatever the server does.
//
// Wire: a 12-byte header, then the payload: u32 sequence (the first is 1; not counted for an
// acknowledgement alone), u32 the highest sequence received in order, u8 kind, 3 bytes zero.
// Sequence numbers wrap after 2^32 and compare modulo 2^32.

export const LinkKind = {
  /** A frame of the host protocol. */
  Frame: 0,
  /** The end: towards the node, kill the host; towards the coordinator, it exited (JSON ExitInfo). */
  End: 1,
  /** An acknowledgement alone. */
  Ack: 2,
} as const;
export type LinkKind = (typeof LinkKind)[keyof typeof LinkKind];

const HEADER = 12;
export const ACK_DELAY_MS = 20;
export const RESEND_MS = 200;
export const RESEND_MAX_MS = 2000;
/** How far past a gap messages are kept (further ones are dropped, and come again). */
const WINDOW = 4096;
/**
 * Bytes kept past a gap at most: what does not fit is dropped, and comes again with the resends
 * (300 messages of 1 MB once took a coordinator from 81 to 434 MiB).
 */
export const EARLY_BYTES = 16 * 1024 * 1024;

export interface LinkOptions {
  /** Puts bytes on the wire (a NATS publish). */
  publish: (bytes: Uint8Array) => void;
  /** Receives each sequenced message once, in order. */
  deliver: (kind: LinkKind, payload: Uint8Array) => void;
  /** The first sequence number, the same on both sides (default 1; numbers wrap after 2^32 - 1). */
  firstSequence?: number;
}

interface Pending {
  seq: number;
  kind: LinkKind;
  /** The bytes, or their parts (joined only in the message written). */
  payload: Uint8Array | readonly Uint8Array[];
}

export class ReliableLink {
  readonly #options: LinkOptions;
  /** Sent and not yet acknowledged, oldest first. */
  readonly #pending: Pending[] = [];
  #nextSeq: number;
  /** The highest sequence received in order (the one before the first, at the start). */
  #received: number;
  #receivedAny = false;
  /** Received past a gap, by sequence. */
  readonly #early = new Map<number, { seq: number; kind: LinkKind; payload: Uint8Array }>();
  #earlyBytes = 0;
  #ackTimer: NodeJS.Timeout | undefined;
  #resendTimer: NodeJS.Timeout | undefined;
  #resendMs = RESEND_MS;
  /** When the other side last acknowledged something new (or the first unacknowledged went). */
  #progress = 0;
  #closed = false;
  /** Resolves when everything sent has been acknowledged (see `settled`). */
  #settledWaiters: Array<() => void> = [];

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#nextSeq = (options.firstSequence ?? 1) >>> 0;
    this.#received = (this.#nextSeq - 1) >>> 0;
  }

  /** Bytes received past a gap, kept until it is filled. */
  get earlyBytes(): number {
    return this.#earlyBytes;
  }

  /** Messages sent and not acknowledged yet. */
  get unacknowledged(): number {
    return this.#pending.length;
  }

  /** Sends `payload` (or its parts, sent as one message: no copy is made to join them). */
  send(kind: typeof LinkKind.Frame | typeof LinkKind.End, payload: Uint8Array | readonly Uint8Array[]): void {
    if (this.#closed) return;
    const message = { seq: this.#nextSeq, kind, payload };
    this.#nextSeq = (this.#nextSeq + 1) >>> 0;
    if (this.#pending.length === 0) this.#progress = performance.now();
    this.#pending.push(message);
    this.#write(message);
    this.#armResend();
  }

  /** A message from the other side (the bytes of a NATS message). Malformed bytes are ignored. */
  receive(bytes: Uint8Array): void {
    if (this.#closed || bytes.length < HEADER) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER);
    const seq = view.getUint32(0, true);
    this.#acknowledged(view.getUint32(4, true));
    const kind = view.getUint8(8) as LinkKind;
    if (kind === LinkKind.Ack) return;
    const ahead = (seq - this.#received) | 0;
    // Whatever came, the other side hears where this side is.
    this.#scheduleAck();
    // A repeat (its acknowledgement was lost), or too far ahead to keep: dropped.
    if (ahead <= 0 || ahead > WINDOW) return;
    const payload = bytes.subarray(HEADER);
    if (ahead > 1) {
      // Past a gap (what is missing will come again): kept, and delivered once the gap is filled;
      // dropped when it would take the kept bytes past EARLY_BYTES (it comes again too).
      if (this.#early.has(seq) || this.#earlyBytes + payload.length > EARLY_BYTES) return;
      // A copy: a view would keep the whole buffer the message was read into alive.
      this.#early.set(seq, { seq, kind, payload: payload.slice() });
      this.#earlyBytes += payload.length;
      return;
    }
    this.#received = seq;
    this.#receivedAny = true;
    this.#options.deliver(kind, payload);
    for (let next = this.#early.get((seq + 1) >>> 0); next; next = this.#early.get((next.seq + 1) >>> 0)) {
      this.#early.delete(next.seq);
      this.#earlyBytes -= next.payload.length;
      this.#received = next.seq;
      if (this.#closed) return;
      this.#options.deliver(next.kind, next.payload);
    }
  }

  /** The connection is back: everything unacknowledged goes again now. */
  resume(): void {
    if (this.#closed) return;
    this.#resendMs = RESEND_MS;
    this.#progress = performance.now();
    for (const message of this.#pending) this.#write(message);
    if (this.#receivedAny) this.#ackNow();
  }

  /** Resolves once the other side has everything sent (at once if it has). */
  settled(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#resendTimer);
    this.#pending.length = 0;
    this.#early.clear();
    this.#earlyBytes = 0;
    for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }

  #write(message: Pending): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const parts = message.payload instanceof Uint8Array ? [message.payload] : message.payload;
    let length = HEADER;
    for (const part of parts) length += part.length;
    const bytes = new Uint8Array(length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, message.seq, true);
    view.setUint32(4, this.#received, true);
    view.setUint8(8, message.kind);
    let at = HEADER;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    this.#options.publish(bytes);
  }

  #ackNow(): void {
    this.#write({ seq: 0, kind: LinkKind.Ack, payload: new Uint8Array(0) });
  }

  #scheduleAck(): void {
    this.#ackTimer ??= setTimeout(() => {
      this.#ackTimer = undefined;
      this.#ackNow();
    }, ACK_DELAY_MS);
  }

  #acknowledged(ack: number): void {
    let done = 0;
    // Sequence numbers compare modulo 2^32: acknowledged when at most `ack`, looking back 2^31.
    while (done < this.#pending.length && ((ack - (this.#pending[done] as Pending).seq) | 0) >= 0) done++;
    if (done === 0) return;
    this.#pending.splice(0, done);
    this.#resendMs = RESEND_MS;
    this.#progress = performance.now();
    if (this.#pending.length === 0) for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }

  /**
   * Keeps one resend timer while anything is unacknowledged. When it fires, what is still
   * unacknowledged goes again if nothing new was acknowledged for `#resendMs`.
   */
  #armResend(): void {
    if (this.#pending.length === 0 || this.#resendTimer) return;
    const wait = Math.max(1, this.#progress + this.#resendMs - performance.now());
    this.#resendTimer = setTimeout(() => {
      this.#resendTimer = undefined;
      if (this.#closed || this.#pending.length === 0) return;
      if (performance.now() - this.#progress >= this.#resendMs) {
        for (const message of this.#pending) this.#write(message);
        this.#progress = performance.now();
        this.#resendMs = Math.min(this.#resendMs * 2, RESEND_MAX_MS);
      }
      this.#armResend();
    }, wait);
  }
}
