// QuickJS's memory import, made to start smaller: used by the engine build step and by the
// benchmark's unmetered engine, so both run with the memory the host gives them.
import { ENGINE_INITIAL_PAGES } from '../dist/actors/engine-file.js';

/**
 * The imported memory's minimum, lowered from the build's 256 pages to ENGINE_INITIAL_PAGES
 * (engine-file.ts says why). The import is `(import "a" "a" (memory 256 32768))`: its limits are
 * the bytes 0x02 (memory), 0x01 (has a maximum), LEB128 256, LEB128 32768. The new minimum is
 * written as a two-byte LEB128 in place, so no length around it changes.
 */
export function startSmaller(bytes) {
  const limits = Buffer.from([0x02, 0x01, 0x80, 0x02, 0x80, 0x80, 0x02]);
  const at = Buffer.from(bytes).indexOf(limits);
  if (at < 0 || Buffer.from(bytes).indexOf(limits, at + 1) >= 0 || ENGINE_INITIAL_PAGES >= 128) {
    throw new Error("this QuickJS build's memory import is not the one Troupe was written for");
  }
  const patched = Uint8Array.from(bytes);
  patched[at + 2] = 0x80 | ENGINE_INITIAL_PAGES;
  patched[at + 3] = 0x00;
  if (!WebAssembly.validate(patched)) {
    throw new Error('the engine does not validate with its smaller memory');
  }
  return patched;
}
