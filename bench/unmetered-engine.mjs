// The baseline the metered engine is measured against: a copy of dist/ whose QuickJS is the one
// the npm package ships, with the meter's fuel global and refuel import added but no meter calls,
// so the same host code runs it. Kept under bench/.unmetered/ (ignored by git), inside the project
// so the copy resolves the project's node_modules.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';
import { FUEL_GLOBAL } from '../dist/abi/index.js';
import { ENGINE_FILE, ENGINE_REFUEL } from '../dist/actors/engine-file.js';
import { smallerMemory } from '../scripts/engine-memory.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function unmeteredEngine() {
  const source = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
  const module = binaryen.readBinary(readFileSync(source));
  try {
    module.setFeatures(
      binaryen.Features.MutableGlobals |
        binaryen.Features.NontrappingFPToInt |
        binaryen.Features.SignExt |
        binaryen.Features.BulkMemory,
    );
    module.addGlobal(FUEL_GLOBAL, binaryen.i32, true, module.i32.const(0));
    module.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
    module.addFunctionImport(
      '__troupe_refuel',
      ENGINE_REFUEL.module,
      ENGINE_REFUEL.base,
      binaryen.none,
      binaryen.none,
    );
    return smallerMemory(module.emitBinary());
  } finally {
    module.dispose();
  }
}

/** The host entry of a dist/ copy whose JavaScript agents run on the unmetered engine. */
export function unmeteredHostEntry() {
  const copy = join(root, 'bench', '.unmetered', 'dist');
  rmSync(copy, { recursive: true, force: true });
  cpSync(join(root, 'dist'), copy, { recursive: true });
  writeFileSync(join(copy, 'engine', ENGINE_FILE), unmeteredEngine());
  return join(copy, 'actors', 'host-main.js');
}
