// QuickJS compiled to WebAssembly (quickjs-emscripten's release-sync build, metered at build time:
// engine-file.ts), instantiated once per JavaScript agent with the few host functions its
// Emscripten glue asks for replaced, so that nothing outside the sandbox is reachable and nothing
// real enters it: the clock is the tick, the time zone is UTC, timers and console output go
// nowhere, memory stops at the agent's limit, and every instruction the engine runs costs fuel.
import { readFileSync } from 'node:fs';
import base from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { FUEL_GLOBAL } from '../abi/index.js';
import { engineMemoryMade } from './engine-collector.js';
import { ENGINE_INITIAL_PAGES, ENGINE_REFUEL, enginePath } from './engine-file.js';
import { sha256 } from './snapshot.js';

/** What QuickJS needs before any JS runs: its data, its stack and room for its own heap (16 MiB). */
export const QUICKJS_MIN_PAGES = 256;

export interface QuickJsEngine {
  module: QuickJSWASMModule;
  memory: WebAssembly.Memory;
  /** The engine's fuel counter (meter.ts): one unit per function entry and loop header it runs. */
  fuel: WebAssembly.Global;
  /** Call after growing `memory` from outside (a snapshot restore): the glue's views follow. */
  refreshViews(): void;
}

/** What the engine's logical clock reads, set by the sandbox before every call; and its fuel. */
export interface EngineClock {
  nowMs: number;
  /** Set when the engine read the clock; the sandbox clears it before a call. */
  read: boolean;
  /** Set when the engine asked for memory past its maximum; the sandbox clears it before a call. */
  memoryRefused: boolean;
  /** Called when the engine's fuel falls below zero: set it again, or throw to stop the engine. */
  refuel(fuel: WebAssembly.Global): void;
}

let compiled: { module: WebAssembly.Module; hash: Uint8Array } | undefined;

/** The compiled, metered QuickJS module (once per thread) and the hash of its bytes, for snapshots. */
export function quickJsBinary(): { module: WebAssembly.Module; hash: Uint8Array } {
  if (!compiled) {
    const bytes = readFileSync(enginePath());
    compiled = { module: new WebAssembly.Module(bytes), hash: sha256(bytes) };
  }
  return compiled;
}

type Glue = Record<string, unknown>;

/** The fuel counter at its largest: what Troupe's own work in the engine runs on. */
export const UNMETERED = 0x7fffffff;

/** A clock at 0 whose refuel keeps Troupe's own set-up unmetered until a sandbox takes it over. */
export function engineClock(): EngineClock {
  return {
    nowMs: 0,
    read: false,
    memoryRefused: false,
    refuel: (fuel) => {
      fuel.value = UNMETERED;
    },
  };
}

/**
 * The glue's imports are minified, so each is recognised by what its source does; a build whose
 * clock or memory growth cannot be found is refused rather than run with the real ones.
 */
function sandboxImports(env: Glue, memory: WebAssembly.Memory, clock: EngineClock): () => void {
  let resize: ((bytes: number) => unknown) | undefined;
  // What the memory has grown to, counted for the collector (engine-collector.ts) as it grows.
  let size = memory.buffer.byteLength;
  const counted = () => {
    const now = memory.buffer.byteLength;
    if (now > size) engineMemoryMade(now - size);
    size = now;
  };
  let clockFound = false;
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'function') continue;
    const source = String(value);
    if (/^\(\)=>Date\.now\(\)$/.test(source.replace(/\s/g, ''))) {
      env[name] = () => {
        clock.read = true;
        return clock.nowMs;
      };
      clockFound = true;
    } else if (source.includes('getSeconds')) {
      env[name] = (seconds: bigint | number, at: number) => writeUtcTime(memory, Number(seconds), at);
    } else if (source.includes('getTimezoneOffset')) {
      env[name] = (timezone: number, daylight: number, std: number, dst: number) =>
        writeUtcZone(memory, timezone, daylight, std, dst);
    } else if (source.includes('setTimeout')) {
      env[name] = () => -1;
    } else if (source.includes('.grow(')) {
      const grow = value as (bytes: number) => unknown;
      resize = grow;
      // Refused past the memory's maximum: the heap is full, whatever QuickJS then throws.
      env[name] = (bytes: number) => {
        const grown = grow(bytes);
        if (!grown) clock.memoryRefused = true;
        counted();
        return grown;
      };
    } else if (source.includes('.decode(') && source.includes('for(')) {
      // fd_write: QuickJS's own prints (none reach it without the std module) go nowhere.
      env[name] = (_fd: number, iov: number, count: number, written: number) =>
        discardWrite(memory, iov, count, written);
    }
  }
  if (!clockFound || !resize) throw new Error('this QuickJS build is not the one Troupe was written for');
  const grow = resize;
  return () => {
    grow(memory.buffer.byteLength);
    counted();
  };
}

/** A fresh QuickJS instance whose memory may grow to `maxPages` pages. */
export async function createEngine(maxPages: number, clock: EngineClock): Promise<QuickJsEngine> {
  const binary = quickJsBinary();
  // Shared, so that V8 does not pace its collections by it (engine-file.ts, engine-collector.ts).
  const memory = new WebAssembly.Memory({ initial: ENGINE_INITIAL_PAGES, maximum: maxPages, shared: true });
  engineMemoryMade(memory.buffer.byteLength);
  let refreshViews: (() => void) | undefined;
  let fuel: WebAssembly.Global | undefined;
  const variant = newVariant(baseVariant(), {
    wasmMemory: memory,
    emscriptenModule: {
      instantiateWasm(imports: Record<string, Glue>, done: (instance: WebAssembly.Instance) => void) {
        refreshViews = sandboxImports(imports.a as Glue, memory, clock);
        const all = {
          ...imports,
          [ENGINE_REFUEL.module]: { [ENGINE_REFUEL.base]: () => clock.refuel(counter) },
        };
        const instance = new WebAssembly.Instance(binary.module, all as WebAssembly.Imports);
        const counter = instance.exports[FUEL_GLOBAL] as WebAssembly.Global;
        fuel = counter;
        // The glue's own set-up runs in the engine too: it is Troupe's, not an agent's.
        fuel.value = UNMETERED;
        done(instance);
        return instance.exports;
      },
    } as never,
  });
  const module = await newQuickJSWASMModuleFromVariant(variant as QuickJSSyncVariant);
  if (!refreshViews || !fuel) throw new Error('QuickJS was not instantiated through the sandbox');
  return { module, memory, fuel, refreshViews };
}

/** The release-sync variant, whether loaded as an ES module or through CommonJS interop (a bundle). */
function baseVariant(): QuickJSSyncVariant {
  const loaded = base as unknown as QuickJSSyncVariant & { default?: QuickJSSyncVariant };
  return typeof loaded.importModuleLoader === 'function' ? loaded : (loaded.default as QuickJSSyncVariant);
}

function writeUtcTime(memory: WebAssembly.Memory, seconds: number, at: number): void {
  const date = new Date(seconds * 1000);
  const view = new DataView(memory.buffer);
  const year = date.getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const fields = [
    date.getUTCSeconds(),
    date.getUTCMinutes(),
    date.getUTCHours(),
    date.getUTCDate(),
    date.getUTCMonth(),
    year - 1900,
    date.getUTCDay(),
    Math.floor((date.getTime() - start) / 86_400_000),
    0,
    0,
  ];
  fields.forEach((value, index) => {
    view.setInt32(at + index * 4, value, true);
  });
}

function writeUtcZone(
  memory: WebAssembly.Memory,
  timezone: number,
  daylight: number,
  std: number,
  dst: number,
): void {
  const view = new DataView(memory.buffer);
  view.setUint32(timezone, 0, true);
  view.setInt32(daylight, 0, true);
  const bytes = new Uint8Array(memory.buffer);
  for (const at of [std, dst]) {
    bytes.set([0x55, 0x54, 0x43, 0], at);
  }
}

function discardWrite(memory: WebAssembly.Memory, iov: number, count: number, written: number): number {
  const view = new DataView(memory.buffer);
  let total = 0;
  for (let index = 0; index < count; index++) total += view.getUint32(iov + index * 8 + 4, true);
  view.setUint32(written, total, true);
  return 0;
}
