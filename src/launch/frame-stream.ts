// Frames over a byte stream (the Node backend's pipe between supervisor and host): each frame is
// a u32 little-endian length, then that many bytes. The reader checks the length against its
// limit as soon as the 4-byte prefix arrives, before it buffers a byte of the frame, so a host
// that announces a 256 MiB frame is refused without the supervisor holding 256 MiB.
import type { Writable } from 'node:stream';

export type FrameReaderEvents = {
  frame: (frame: Uint8Array) => void;
  /** A frame announced more bytes than the limit; nothing more is read from this stream. */
  oversize: (bytes: number, limit: number) => void;
};

export class FrameReader {
  readonly #limit: number;
  readonly #events: FrameReaderEvents;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length of the frame being gathered, once its prefix is known. */
  #expected: number | undefined;
  #stopped = false;

  constructor(limit: number, events: FrameReaderEvents) {
    this.#limit = limit;
    this.#events = events;
  }

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#expected === undefined) {
        if (this.#buffered < 4) return;
        const length = this.#take(4).readUInt32LE(0);
        if (length > this.#limit) {
          this.#stopped = true;
          this.#chunks = [];
          this.#buffered = 0;
          this.#events.oversize(length, this.#limit);
          return;
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) return;
      const frame = this.#take(this.#expected);
      this.#expected = undefined;
      this.#events.frame(frame);
      if (this.#stopped) return;
    }
  }

  /** Stops reading (the stream's owner is going away). */
  stop(): void {
    this.#stopped = true;
    this.#chunks = [];
    this.#buffered = 0;
  }

  /** The next `bytes` bytes, in a buffer of their own (one copy, however many chunks they span). */
  #take(bytes: number): Buffer {
    // A copy, so a frame handed out (and the payloads decoded from it) does not pin the possibly
    // much larger chunk it arrived in.
    const taken = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.#chunks[0] as Buffer;
      const part = Math.min(chunk.length, bytes - filled);
      chunk.copy(taken, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#buffered -= bytes;
    return taken;
  }
}

/** The 4-byte prefix of a frame of `length` bytes. */
export function framePrefix(length: number): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(length, 0);
  return prefix;
}

/** Writes one frame to a stream: its prefix and its bytes, corked so they go out in one write. */
export function writeFrame(stream: Writable, frame: Uint8Array): void {
  stream.cork();
  stream.write(framePrefix(frame.length));
  stream.write(frame);
  stream.uncork();
}
