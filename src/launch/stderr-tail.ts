// Keeps the last few kilobytes a child wrote to stderr, so a crash report can quote it.

const LIMIT = 4096;

export class StderrTail {
  #text = '';

  push(chunk: Buffer | string): void {
    this.#text = (this.#text + chunk.toString()).slice(-LIMIT);
  }

  /** The last non-empty lines, joined; empty when the child said nothing. */
  lines(count = 6): string {
    return this.#text.trim().split('\n').slice(-count).join('\n');
  }
}
