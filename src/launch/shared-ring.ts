// A single-producer, single-consumer ring of frames in a SharedArrayBuffer, signalled with
// Atomics (docs/shared-memory.md has the layout and the wake protocol). One ring carries frames
// one way; a host thread and the supervisor use two. No structured clone per frame: the producer
// copies the bytes into shared memory and the consumer copies them out.

/** Int32 slots of the header (the header is 64 bytes: one cache line). */
const HEAD = 0; // bytes written so far (u32, wraps): the producer's
const TAIL = 1; // bytes read so far (u32, wraps): the consumer's
const DATA_SEQ = 2; // bumped by the producer after each publish: the consumer waits on it
const SPACE_SEQ = 3; // bumped by the consumer after each read: a producer waits on it when full
const CLOSED = 4; // 1 once either side closed the ring
const DATA_WAITERS = 5; // consumers waiting on DATA_SEQ: the producer notifies only when one is
const SPACE_WAITERS = 6; // producers waiting on SPACE_SEQ
const HEADER_BYTES = 64;
/**
 * Each frame is a u32 length in an 8-byte slot, then the bytes, padded to 8 bytes: a length never
 * wraps, and a frame's bytes start 8-aligned. V8 copies shared memory word by word only when both
 * sides are 8-aligned; misaligned, it copies byte by byte, 6 to 8 times slower (measured here).
 */
const LENGTH_BYTES = 8;

export type WaitResult = 'ok' | 'timed-out' | 'closed';

// Atomics.waitAsync is in Node since 16 but in TypeScript's lib only from ES2024.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: unknown };
  }
).waitAsync;

export class SharedRing {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly #header: Int32Array;
  readonly #data: Uint8Array;
  readonly #view: DataView;

  /** A new ring with `capacity` bytes of frames (a power of two, at least 64). */
  static create(capacity: number): SharedRing {
    if (!Number.isInteger(capacity) || capacity < 64 || (capacity & (capacity - 1)) !== 0)
      throw new RangeError(`a ring's capacity must be a power of two of at least 64 bytes (got ${capacity})`);
    return new SharedRing(new SharedArrayBuffer(HEADER_BYTES + capacity));
  }

  /** The other end of a ring whose buffer was passed to this thread. */
  constructor(buffer: SharedArrayBuffer) {
    const capacity = buffer.byteLength - HEADER_BYTES;
    if (capacity < 64 || (capacity & (capacity - 1)) !== 0)
      throw new RangeError(`not a ring buffer: ${buffer.byteLength} bytes`);
    this.buffer = buffer;
    this.capacity = capacity;
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#data = new Uint8Array(buffer, HEADER_BYTES, capacity);
    this.#view = new DataView(buffer, HEADER_BYTES, capacity);
  }

  /** The largest frame this ring carries (a bigger one must go another way). */
  get maxFrame(): number {
    return this.capacity - LENGTH_BYTES;
  }

  get closed(): boolean {
    return Atomics.load(this.#header, CLOSED) === 1;
  }

  /** Bytes in the ring not yet read (frames with their lengths and padding). */
  get used(): number {
    return (Atomics.load(this.#header, HEAD) - Atomics.load(this.#header, TAIL)) >>> 0;
  }

  /**
   * Producer: copies the frame in and publishes it. False when the ring has no room for it now
   * (the caller keeps it and tries again after waitForSpace). Throws for a frame over maxFrame.
   */
  tryWrite(frame: Uint8Array): boolean {
    if (frame.length > this.maxFrame)
      throw new RangeError(`a frame of ${frame.length} bytes does not fit a ring of ${this.capacity}`);
    if (this.closed) return false;
    const size = LENGTH_BYTES + padded(frame.length);
    const head = Atomics.load(this.#header, HEAD) >>> 0;
    const tail = Atomics.load(this.#header, TAIL) >>> 0;
    if (this.capacity - ((head - tail) >>> 0) < size) return false;
    const at = head & (this.capacity - 1);
    this.#view.setUint32(at, frame.length, true);
    this.#copyIn((at + LENGTH_BYTES) & (this.capacity - 1), frame);
    // The store publishes the bytes written above (Atomics order them before it).
    Atomics.store(this.#header, HEAD, (head + size) | 0);
    Atomics.add(this.#header, DATA_SEQ, 1);
    // A wake-up costs a system call; skip it when nobody waits (see #wait for why this is safe).
    if (Atomics.load(this.#header, DATA_WAITERS) > 0) Atomics.notify(this.#header, DATA_SEQ);
    return true;
  }

  /** Consumer: the next frame (a copy), or undefined when the ring is empty. */
  read(): Uint8Array | undefined {
    const tail = Atomics.load(this.#header, TAIL) >>> 0;
    const head = Atomics.load(this.#header, HEAD) >>> 0;
    if (head === tail) return undefined;
    const at = tail & (this.capacity - 1);
    const length = this.#view.getUint32(at, true);
    const frame = this.#copyOut((at + LENGTH_BYTES) & (this.capacity - 1), length);
    Atomics.store(this.#header, TAIL, (tail + LENGTH_BYTES + padded(length)) | 0);
    Atomics.add(this.#header, SPACE_SEQ, 1);
    if (Atomics.load(this.#header, SPACE_WAITERS) > 0) Atomics.notify(this.#header, SPACE_SEQ);
    return frame;
  }

  /** Consumer, on a thread that may block: waits until a frame is there (or the ring closes). */
  waitForData(timeoutMs = Number.POSITIVE_INFINITY): WaitResult {
    return this.#wait(DATA_SEQ, DATA_WAITERS, () => this.used > 0, timeoutMs);
  }

  /** Producer, on a thread that may block: waits until `bytes` more fit. */
  waitForSpace(bytes: number, timeoutMs = Number.POSITIVE_INFINITY): WaitResult {
    const size = LENGTH_BYTES + padded(bytes);
    return this.#wait(SPACE_SEQ, SPACE_WAITERS, () => this.capacity - this.used >= size, timeoutMs);
  }

  /** Consumer on the event loop (never blocks it): resolves when a frame is there or it closes. */
  async dataAvailable(): Promise<'ok' | 'closed'> {
    return this.#waitAsync(DATA_SEQ, DATA_WAITERS, () => this.used > 0);
  }

  /** Producer on the event loop: resolves when `bytes` more fit, or the ring closes. */
  async spaceAvailable(bytes: number): Promise<'ok' | 'closed'> {
    const size = LENGTH_BYTES + padded(bytes);
    return this.#waitAsync(SPACE_SEQ, SPACE_WAITERS, () => this.capacity - this.used >= size);
  }

  /** Either side: no more frames; a waiting side wakes up and sees `closed`. */
  close(): void {
    Atomics.store(this.#header, CLOSED, 1);
    Atomics.add(this.#header, DATA_SEQ, 1);
    Atomics.add(this.#header, SPACE_SEQ, 1);
    Atomics.notify(this.#header, DATA_SEQ);
    Atomics.notify(this.#header, SPACE_SEQ);
  }

  /**
   * Waits on a sequence word. The waiter count goes up before the sequence is read and the
   * condition checked; the other side bumps the sequence before it reads the count. With all of
   * these sequentially consistent, either the other side sees the waiter (and notifies) or this
   * side sees the new sequence (and does not sleep): no wake-up is lost.
   */
  #wait(slot: number, waiters: number, ready: () => boolean, timeoutMs: number): WaitResult {
    const deadline = performance.now() + timeoutMs;
    Atomics.add(this.#header, waiters, 1);
    try {
      for (;;) {
        const seen = Atomics.load(this.#header, slot);
        if (ready()) return 'ok';
        if (this.closed) return 'closed';
        const left = deadline - performance.now();
        if (left <= 0) return 'timed-out';
        Atomics.wait(this.#header, slot, seen, left);
      }
    } finally {
      Atomics.sub(this.#header, waiters, 1);
    }
  }

  async #waitAsync(slot: number, waiters: number, ready: () => boolean): Promise<'ok' | 'closed'> {
    Atomics.add(this.#header, waiters, 1);
    try {
      for (;;) {
        const seen = Atomics.load(this.#header, slot);
        if (ready()) return 'ok';
        if (this.closed) return 'closed';
        const waiting = waitAsync(this.#header, slot, seen);
        if (waiting.async) await waiting.value;
      }
    } finally {
      Atomics.sub(this.#header, waiters, 1);
    }
  }

  #copyIn(at: number, bytes: Uint8Array): void {
    const first = Math.min(bytes.length, this.capacity - at);
    this.#data.set(bytes.subarray(0, first), at);
    if (first < bytes.length) this.#data.set(bytes.subarray(first), 0);
  }

  #copyOut(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const first = Math.min(length, this.capacity - at);
    out.set(this.#data.subarray(at, at + first), 0);
    if (first < length) out.set(this.#data.subarray(0, length - first), first);
    return out;
  }
}

function padded(length: number): number {
  return (length + 7) & ~7;
}
