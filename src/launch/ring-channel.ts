// One end of a thread's channel: frames out through one SharedRing, frames in from another, both
// waited on with Atomics.waitAsync so neither event loop blocks. A frame too large for its ring
// goes as a structured-clone message instead, announced in the ring by an empty frame so the
// order of frames is kept (our frames are never empty: they always hold a command or an event).
import { SharedRing } from './shared-ring.js';

/** Where large frames travel: the worker's port, from either side. */
export interface MessagePort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

const ANNOUNCE = new Uint8Array(0);

export class RingChannel {
  readonly #out: SharedRing;
  readonly #in: SharedRing;
  readonly #port: MessagePort;
  /** Frames waiting for room in the ring, in order. */
  readonly #backlog: Uint8Array[] = [];
  /** Large frames that arrived on the port, not yet matched with their announcement. */
  readonly #posted: Uint8Array[] = [];
  /** Frames read, in order; `undefined` stands for an announced large frame not yet arrived. */
  readonly #inbox: Array<Uint8Array | undefined> = [];
  #draining = false;
  #closed = false;
  #onFrame: (frame: Uint8Array) => void = () => {};
  #onClosed: () => void = () => {};

  constructor(out: SharedArrayBuffer, into: SharedArrayBuffer, port: MessagePort) {
    this.#out = new SharedRing(out);
    this.#in = new SharedRing(into);
    this.#port = port;
    port.on('message', (message) => {
      if (message instanceof Uint8Array) {
        this.#posted.push(message);
        this.#deliver();
      }
    });
  }

  /** Starts reading: every frame goes to `onFrame`, in the order it was sent. */
  listen(onFrame: (frame: Uint8Array) => void, onClosed: () => void = () => {}): void {
    this.#onFrame = onFrame;
    this.#onClosed = onClosed;
    // On the next turn, as a stream's data would come: whoever connected can attach listeners first.
    setImmediate(() => void this.#readLoop());
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    if (frame.length > this.#out.maxFrame) {
      this.#backlog.push(ANNOUNCE);
      this.#port.postMessage(frame);
    } else {
      this.#backlog.push(frame);
    }
    this.#flush();
  }

  close(): void {
    this.#closed = true;
    this.#out.close();
    this.#in.close();
  }

  #flush(): void {
    while (this.#backlog.length > 0 && this.#out.tryWrite(this.#backlog[0] as Uint8Array))
      this.#backlog.shift();
    if (this.#backlog.length === 0 || this.#draining) return;
    // The ring is full: wait for the reader to make room, off the event loop's back.
    this.#draining = true;
    void this.#out.spaceAvailable((this.#backlog[0] as Uint8Array).length).then((state) => {
      this.#draining = false;
      if (state === 'ok') this.#flush();
    });
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      let frame = this.#in.read();
      while (frame !== undefined) {
        this.#inbox.push(frame.length === 0 ? undefined : frame);
        frame = this.#in.read();
      }
      this.#deliver();
      if ((await this.#in.dataAvailable()) === 'closed' && this.#in.used === 0) {
        this.#onClosed();
        return;
      }
    }
  }

  /** Hands out frames in the order they were sent, each large one once it has arrived. */
  #deliver(): void {
    while (this.#inbox.length > 0) {
      let next = this.#inbox[0];
      if (next === undefined) {
        next = this.#posted.shift();
        if (next === undefined) return;
      }
      this.#inbox.shift();
      this.#onFrame(next);
    }
  }
}
