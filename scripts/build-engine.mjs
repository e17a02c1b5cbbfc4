// Meters QuickJS's WebAssembly (the engine JavaScript agents run in) with the meter agent modules
// get: one unit of fuel per function entry and loop header of the engine's own code, bulk memory
// operations by their length. Written once to dist/engine/; hosts never load binaryen.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_FILE, ENGINE_INITIAL_PAGES, ENGINE_REFUEL } from '../dist/actors/engine-file.js';
import { meterModule } from '../dist/actors/meter.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
const metered = meterModule(readFileSync(source), 'QuickJS', { refuel: ENGINE_REFUEL });
if (!metered.ok) {
  process.stderr.write(`build-engine: ${metered.reason}\n`);
  process.exit(1);
}
mkdirSync(join(root, 'dist', 'engine'), { recursive: true });
writeFileSync(join(root, 'dist', 'engine', ENGINE_FILE), startSmaller(metered.bytes));

/**
 * The imported memory's minimum, lowered from the build's 256 pages to ENGINE_INITIAL_PAGES
 * (engine-file.ts says why). The import is `(import "a" "a" (memory 256 32768))`: its limits are
 * the bytes 0x02 (memory), 0x01 (has a maximum), LEB128 256, LEB128 32768. The new minimum is
 * written as a two-byte LEB128 in place, so no length around it changes.
 */
function startSmaller(bytes) {
  const limits = Buffer.from([0x02, 0x01, 0x80, 0x02, 0x80, 0x80, 0x02]);
  const at = Buffer.from(bytes).indexOf(limits);
  if (at < 0 || Buffer.from(bytes).indexOf(limits, at + 1) >= 0 || ENGINE_INITIAL_PAGES >= 128) {
    process.stderr.write(
      "build-engine: this QuickJS build's memory import is not the one Troupe was written for\n",
    );
    process.exit(1);
  }
  const patched = Uint8Array.from(bytes);
  patched[at + 2] = 0x80 | ENGINE_INITIAL_PAGES;
  patched[at + 3] = 0x00;
  if (!WebAssembly.validate(patched)) {
    process.stderr.write('build-engine: the engine does not validate with its smaller memory\n');
    process.exit(1);
  }
  return patched;
}
