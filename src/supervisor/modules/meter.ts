// Load-time instrumentation of agent modules (binaryen): a deterministic fuel meter, and a memory
// maximum written into the module itself, so the limit holds even for modules that define their
// own memory. Runs once per module in the supervisor; hosts get the instrumented bytes and never
// load binaryen (it would add about a second to every host start).
import binaryen from 'binaryen';
import { FUEL_GLOBAL, GLOBAL_EXPORT_PREFIX, START_EXPORT } from '../../abi/index.js';
import { errorText } from '../../protocol/index.js';
import { chargeBulkOperations, scanBodies } from './bulk-charge.js';

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
  /** Most 64 KiB pages the module's memory may grow to; absent, the memory is left as declared. */
  maxMemoryPages?: number;
  /**
   * What the meter does when the fuel falls below zero: trap (agent modules), or call this
   * imported function, which may set the fuel again or throw (the JavaScript engine: the host
   * decides whether a new message has started). Absent: trap.
   */
  refuel?: { module: string; base: string };
}

export type MeterResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/**
 * Instruments a module: every function entry and loop header costs one unit of fuel (a call of
 * a function that counts down a global, inlined),
 * bulk operations cost by their length (bulk-charge.ts), the start function becomes an export
 * the host calls with a budget, and the memory maximum becomes min(declared, maxMemoryPages).
 * Nothing it meets is thrown: a module it cannot meter is refused with the reason.
 */
export function meterModule(bytes: Uint8Array, label: string, options: MeterOptions): MeterResult {
  // binaryen aborts on malformed input; the host refuses those with the engine's own message.
  if (!WebAssembly.validate(bytes)) return { ok: true, bytes };
  let module: binaryen.Module | undefined;
  try {
    module = binaryen.readBinary(bytes);
    module.setFeatures(FEATURES);
    const limited =
      options.maxMemoryPages === undefined ? undefined : limitMemory(module, label, options.maxMemoryPages);
    const problem = limited ?? addFuelMeter(module, label, options);
    if (problem) return { ok: false, reason: problem };
    const out = module.emitBinary();
    if (!WebAssembly.validate(out)) {
      return { ok: false, reason: `${label} uses WebAssembly features this runtime cannot meter` };
    }
    return { ok: true, bytes: out };
  } catch (error) {
    return { ok: false, reason: `${label} could not be metered: ${errorText(error)}` };
  } finally {
    module?.dispose();
  }
}

function addFuelMeter(module: binaryen.Module, label: string, options: MeterOptions): string | undefined {
  const found = scanBodies(module);
  if (typeof found === 'string') return `${label}: ${found}`;
  const fuel = freeName(module, FUEL_GLOBAL);
  const start = module.getStart();
  // Zero until the host sets a budget: nothing in the module runs unmetered, its start included.
  module.addGlobal(fuel, binaryen.i32, true, module.i32.const(0));
  module.addGlobalExport(fuel, FUEL_GLOBAL);
  const empty = emptyTank(module, options.refuel);
  const meter = freeName(module, '__troupe_meter');
  chargeEntriesAndLoops(module, meter, found.loops);
  const remaining = () => module.global.get(fuel, binaryen.i32);
  module.addFunction(
    meter,
    binaryen.none,
    binaryen.none,
    [],
    module.block(null, [
      module.global.set(fuel, module.i32.sub(remaining(), module.i32.const(1))),
      module.if(module.i32.lt_s(remaining(), module.i32.const(0)), empty()),
    ]),
  );
  const charge = {
    bytes: freeName(module, '__troupe_charge_bytes'),
    elements: freeName(module, '__troupe_charge_elements'),
  };
  chargeBulkOperations(module, fuel, charge, empty, found.bulk);
  if (start) deferStart(module, start);
  exportGlobals(module, fuel);
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
  return undefined;
}

// binaryen.js has these expression and function classes (index.js), but its typings do not declare them.
const bodies = binaryen as unknown as {
  Loop: {
    getBody(loop: binaryen.ExpressionRef): binaryen.ExpressionRef;
    setBody(loop: binaryen.ExpressionRef, body: binaryen.ExpressionRef): void;
  };
  Function: { setBody(fn: binaryen.FunctionRef, body: binaryen.ExpressionRef): void };
};

/**
 * A call of the meter at every function's entry and every loop's header: one unit per call and
 * per iteration. Nothing at exits (binaryen's log-execution pass also logs returns, which doubled
 * the cost of a call and added no bound).
 */
function chargeEntriesAndLoops(
  module: binaryen.Module,
  meter: string,
  loops: readonly binaryen.ExpressionRef[],
): void {
  const metered = (body: binaryen.ExpressionRef) =>
    module.block(null, [module.call(meter, [], binaryen.none), body], binaryen.getExpressionType(body));
  for (const loop of loops) bodies.Loop.setBody(loop, metered(bodies.Loop.getBody(loop)));
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = module.getFunctionByIndex(i);
    const info = binaryen.getFunctionInfo(fn);
    if (info.module || !info.body) continue;
    bodies.Function.setBody(fn, metered(info.body));
  }
}

/** What runs when the fuel is below zero: a trap, or a call of the imported refuel function. */
function emptyTank(module: binaryen.Module, refuel: MeterOptions['refuel']): () => binaryen.ExpressionRef {
  if (!refuel) return () => module.unreachable();
  const name = freeName(module, '__troupe_refuel');
  module.addFunctionImport(name, refuel.module, refuel.base, binaryen.none, binaryen.none);
  return () => module.call(name, [], binaryen.none);
}

/**
 * The start function runs at instantiation, before the host can give it a budget: it is exported
 * for the host to call with one, and an empty function (added after the meter, so it costs
 * nothing) becomes the start.
 */
function deferStart(module: binaryen.Module, start: binaryen.FunctionRef): void {
  module.addFunctionExport(binaryen.getFunctionInfo(start).name, START_EXPORT);
  const empty = module.addFunction(
    freeName(module, '__troupe_no_start'),
    binaryen.none,
    binaryen.none,
    [],
    module.nop(),
  );
  module.setStart(empty);
}

/** `base`, or `base_1`, `base_2`, ... : an internal name no global or function of the module has. */
function freeName(module: binaryen.Module, base: string): string {
  for (let n = 0; ; n++) {
    const name = n === 0 ? base : `${base}_${n}`;
    if (!module.getGlobal(name) && !module.getFunction(name)) return name;
  }
}

/** Exports every mutable global (in index order) so the host can snapshot and restore them. */
function exportGlobals(module: binaryen.Module, fuel: string): void {
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (!info.mutable || info.module || info.name === fuel) continue;
    module.addGlobalExport(info.name, `${GLOBAL_EXPORT_PREFIX}${String(i).padStart(4, '0')}`);
  }
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
