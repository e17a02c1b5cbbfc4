// Keeps the last few kilobytes a child wrote to stderr, so a crash report can quote it.

const LIMIT = 8192;

export class StderrTail {
  #text = '';

  push(chunk: Buffer | string): void {
    this.#text = (this.#text + chunk.toString()).slice(-LIMIT);
  }

  /** The last lines that say something: stack frames and blank lines are left out. */
  lines(count = 6): string {
    return this.#text
      .split('\n')
      .filter((line) => line.trim() !== '' && !/^\s+at /.test(line))
      .slice(-count)
      .join('\n');
  }
}
