// Which agent a shared-pool thread is running, in shared memory: the thread writes the name before
// it runs a command and clears it after, so when the thread dies by itself (past its heap limit,
// say) the supervisor knows which agent was running and blames that one alone.
// Layout: Int32 0 = byte length of the name (0: none), then the name in UTF-8.

export class RunningAgent {
  /** 4 bytes of length and room for a name of up to 252 bytes (agent names are shorter). */
  static readonly BYTES = 256;
  readonly buffer: SharedArrayBuffer;
  readonly #length: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#length = new Int32Array(buffer, 0, 1);
    this.#bytes = new Uint8Array(buffer, 4);
  }

  /** The thread begins running `agent`'s command (undefined: it runs none). */
  write(agent: string | undefined): void {
    if (agent === undefined) {
      Atomics.store(this.#length, 0, 0);
      return;
    }
    const { written } = new TextEncoder().encodeInto(agent, this.#bytes);
    Atomics.store(this.#length, 0, written);
  }

  /** The agent being run, if any (read once the thread has stopped). */
  read(): string | undefined {
    const length = Atomics.load(this.#length, 0);
    return length === 0 ? undefined : new TextDecoder().decode(this.#bytes.slice(0, length));
  }
}
