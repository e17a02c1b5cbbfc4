// Delivers a child's exit to its listeners exactly once, also to listeners that come late.
import type { ExitInfo } from './types.js';

export class ExitReport {
  #listeners: Array<(info: ExitInfo) => void> = [];
  #info: ExitInfo | undefined;

  get settled(): boolean {
    return this.#info !== undefined;
  }

  listen(listener: (info: ExitInfo) => void): void {
    if (this.#info) listener(this.#info);
    else this.#listeners.push(listener);
  }

  settle(info: ExitInfo): void {
    if (this.#info) return;
    this.#info = info;
    for (const listener of this.#listeners) listener(info);
    this.#listeners = [];
  }
}
