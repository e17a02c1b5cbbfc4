// Load-time instrumentation of agent modules (binaryen): a deterministic fuel meter, and a memory
// maximum written into the module itself, so the limit holds even for modules that define their
// own memory. Runs once per module in the supervisor; hosts get the instrumented bytes and never
// load binaryen (it would add about a second to every host start).
import binaryen from 'binaryen';
import { FUEL_GLOBAL, GLOBAL_EXPORT_PREFIX } from './abi.js';

// What V8 in Node 20 runs. Emitting with Features.All produces binaries Node 20 rejects.
const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.SIMD128 |
  binaryen.Features.ReferenceTypes |
  binaryen.Features.Multivalue;

export interface MeterOptions {
  /** Most 64 KiB pages the module's memory may grow to. */
  maxMemoryPages: number;
}

export type MeterResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/**
 * Instruments a module: every function entry and loop header costs one unit of fuel (binaryen's
 * log-execution pass places the calls; we define the called function to count down a global),
 * and the memory maximum becomes min(declared maximum, maxMemoryPages).
 */
export function meterModule(bytes: Uint8Array, label: string, options: MeterOptions): MeterResult {
  // binaryen aborts on malformed input; the host refuses those with the engine's own message.
  if (!WebAssembly.validate(bytes)) return { ok: true, bytes };
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(FEATURES);
    const memoryProblem = limitMemory(module, label, options.maxMemoryPages);
    if (memoryProblem) return { ok: false, reason: memoryProblem };
    addFuelMeter(module);
    exportGlobals(module);
    const out = module.emitBinary();
    if (!WebAssembly.validate(out)) {
      return { ok: false, reason: `${label} uses WebAssembly features this runtime cannot meter` };
    }
    return { ok: true, bytes: out };
  } finally {
    module.dispose();
  }
}

function addFuelMeter(module: binaryen.Module): void {
  module.runPasses(['log-execution']);
  const logger = findImport(module, 'log_execution');
  if (!logger) return;
  module.removeFunction(logger);
  // The start function runs at instantiation, before the host can set a budget: give it the most.
  module.addGlobal(FUEL_GLOBAL, binaryen.i32, true, module.i32.const(0x7fffffff));
  module.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
  const fuel = () => module.global.get(FUEL_GLOBAL, binaryen.i32);
  module.addFunction(
    logger,
    binaryen.createType([binaryen.i32]),
    binaryen.none,
    [],
    module.block(null, [
      module.global.set(FUEL_GLOBAL, module.i32.sub(fuel(), module.i32.const(1))),
      module.if(module.i32.lt_s(fuel(), module.i32.const(0)), module.unreachable()),
    ]),
  );
  // A call per loop iteration cost more than half the speed of loop-heavy code (bench/fuel.mjs);
  // inlined, the meter is a global decrement and a branch.
  // binaryen only always-inlines functions up to 2 nodes by default; the meter has about 10.
  const previous = binaryen.getAlwaysInlineMaxSize();
  binaryen.setAlwaysInlineMaxSize(16);
  try {
    module.runPasses(['inlining']);
  } finally {
    binaryen.setAlwaysInlineMaxSize(previous);
  }
}

/** Exports every mutable global (in index order) so the host can snapshot and restore them. */
function exportGlobals(module: binaryen.Module): void {
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (!info.mutable || info.module || info.name === FUEL_GLOBAL) continue;
    module.addGlobalExport(info.name, `${GLOBAL_EXPORT_PREFIX}${String(i).padStart(4, '0')}`);
  }
}

function findImport(module: binaryen.Module, base: string): string | undefined {
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module && info.base === base) return info.name;
  }
  return undefined;
}

// binaryen.js has these (index.js), but its typings do not declare them yet.
interface DataSegments {
  getNumDataSegments(): number;
  getDataSegmentInfo(segment: number): {
    name: string;
    offset: number | null;
    data: ArrayBuffer;
    passive: boolean;
  };
}

function limitMemory(module: binaryen.Module, label: string, maxPages: number): string | undefined {
  if (!module.hasMemory()) return undefined;
  const memory = module.getMemoryInfo();
  if (memory.initial > maxPages) {
    return `${label} starts with ${memory.initial} pages of memory, above limits.memoryPages ${maxPages}`;
  }
  const max = Math.min(memory.max ?? maxPages, maxPages);
  if (memory.max === max) return undefined;
  const segments = [];
  const data = module as unknown as DataSegments;
  for (let i = 0; i < data.getNumDataSegments(); i++) {
    const info = data.getDataSegmentInfo(module.getDataSegmentByIndex(i));
    segments.push({
      name: info.name,
      data: new Uint8Array(info.data),
      passive: info.passive,
      offset: info.passive ? 0 : module.i32.const(info.offset ?? 0),
    });
  }
  const exported = memoryExportName(module);
  if (exported) module.removeExport(exported);
  module.setMemory(memory.initial, max, exported ?? null, segments, memory.shared, memory.is64);
  return undefined;
}

function memoryExportName(module: binaryen.Module): string | undefined {
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.kind === binaryen.ExternalMemory) return info.name;
  }
  return undefined;
}
