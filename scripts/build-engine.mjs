// Meters QuickJS's WebAssembly (the engine JavaScript agents run in) with the meter agent modules
// get: one unit of fuel per function entry and loop header of the engine's own code, bulk memory
// operations by their length. Written once to dist/engine/; hosts never load binaryen.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_FILE, ENGINE_REFUEL } from '../dist/actors/engine-file.js';
import { loadMeter } from '../dist/supervisor/modules/index.js';
import { smallerMemory } from './engine-memory.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
const meterModule = await loadMeter();
const metered = meterModule(readFileSync(source), 'QuickJS', { refuel: ENGINE_REFUEL });
if (!metered.ok) {
  process.stderr.write(`build-engine: ${metered.reason}\n`);
  process.exit(1);
}
mkdirSync(join(root, 'dist', 'engine'), { recursive: true });
try {
  writeFileSync(join(root, 'dist', 'engine', ENGINE_FILE), smallerMemory(metered.bytes));
} catch (error) {
  process.stderr.write(`build-engine: ${error.message}\n`);
  process.exit(1);
}
