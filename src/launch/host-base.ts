// What every HostProcess shares, whichever backend runs it: frame, oversize and exit listeners,
// and the one place a frame is checked against the host's frame limit before it is passed on.
import { ExitReport } from './exit-report.js';
import type { ExitInfo, HostProcess } from './types.js';

export abstract class HostBase implements HostProcess {
  abstract readonly pid: number | undefined;
  protected readonly exitReport = new ExitReport();
  readonly #frameListeners: Array<(frame: unknown) => void> = [];
  readonly #oversizeListeners: Array<(bytes: number, limit: number) => void> = [];

  abstract send(frame: Uint8Array): void;
  abstract kill(stuck?: boolean): void;

  onFrame(listener: (frame: unknown) => void): void {
    this.#frameListeners.push(listener);
  }

  onOversize(listener: (bytes: number, limit: number) => void): void {
    this.#oversizeListeners.push(listener);
  }

  onExit(listener: (info: ExitInfo) => void): void {
    this.exitReport.listen(listener);
  }

  /** Passes a frame from the host on, unless it is over `limit` (then it is reported instead). */
  protected deliver(frame: unknown, bytes: number, limit: number): void {
    if (this.exitReport.settled) return;
    if (bytes > limit) {
      this.oversized(bytes, limit);
      return;
    }
    for (const listener of this.#frameListeners) listener(frame);
  }

  protected oversized(bytes: number, limit: number): void {
    for (const listener of this.#oversizeListeners) listener(bytes, limit);
  }
}
