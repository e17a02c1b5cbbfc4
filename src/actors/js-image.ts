// Start-up from a memory image (Wizer-style pre-initialisation) for JavaScript agents: the first
// instance of a bundle on a thread runs the bundle's top-level code for real, and the pages that
// code changed are kept; every later instance of that bundle, set up by the same steps, gets those
// pages written instead of running the code again. Only pages that differ are written, so an
// instance's untouched memory stays untouched (not resident).
import type { LogRecord } from './call-record.js';

const PAGE = 4096;
const WASM_PAGE = 65536;
const ZEROS = new Uint8Array(PAGE);

export interface MemoryImage {
  /** The memory's size after the top-level code ran. */
  readonly byteLength: number;
  /** The pages it changed: index and bytes. */
  readonly pages: ReadonlyArray<readonly [number, Uint8Array]>;
}

/** What running the top-level code gave, to be given again by every instance made from the image. */
export interface StartImage {
  readonly memory: MemoryImage;
  readonly logs: readonly LogRecord[];
  readonly fuelUsed: number;
}

/** The pages of `memory` that differ from `before` (a copy taken before the code ran). */
export function changedPages(before: Uint8Array, memory: WebAssembly.Memory): MemoryImage {
  const after = new Uint8Array(memory.buffer);
  const pages: Array<readonly [number, Uint8Array]> = [];
  for (let at = 0; at < after.length; at += PAGE) {
    const page = after.subarray(at, at + PAGE);
    // Memory grown while the code ran starts as zeros, as it will in every later instance.
    const old = at < before.length ? before.subarray(at, at + PAGE) : ZEROS;
    if (Buffer.compare(page, old) !== 0) pages.push([at / PAGE, page.slice()]);
  }
  return { byteLength: after.length, pages };
}

/** Writes the image's pages into `memory` (grown first when the image is larger). */
export function applyImage(image: MemoryImage, memory: WebAssembly.Memory, grown: () => void): void {
  const current = memory.buffer.byteLength;
  if (image.byteLength > current) {
    memory.grow((image.byteLength - current) / WASM_PAGE);
    grown();
  }
  const bytes = new Uint8Array(memory.buffer);
  for (const [index, page] of image.pages) bytes.set(page, index * PAGE);
}
