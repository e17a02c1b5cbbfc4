// A warm spare: one agent host process started ahead of need, so a restart after a host dies
// costs a module load, not a fork (about 0.2 s of CPU on these machines). Taken by the next
// process start, then replaced; a spare that dies while it waits is simply dropped.
import type { HostProcess } from '../launch/index.js';

export class SpareHost {
  readonly #start: () => HostProcess;
  #waiting: HostProcess | undefined;
  #closed = false;

  /** `start` starts a host process with the options every agent host shares. */
  constructor(start: () => HostProcess) {
    this.#start = start;
  }

  /** The waiting spare, if one is up; the caller owns it from now on. */
  take(): HostProcess | undefined {
    const spare = this.#waiting;
    this.#waiting = undefined;
    return spare;
  }

  /** Starts a spare when none is waiting. */
  fill(): void {
    if (this.#closed || this.#waiting) return;
    const spare = this.#start();
    this.#waiting = spare;
    spare.onExit(() => {
      if (this.#waiting === spare) this.#waiting = undefined;
    });
  }

  /** No more spares; the waiting one is ended. */
  close(): void {
    this.#closed = true;
    this.take()?.kill();
  }
}
