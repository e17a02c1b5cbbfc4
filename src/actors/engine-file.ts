// Where the metered QuickJS engine is: `npm run build` meters QuickJS's WebAssembly once
// (scripts/build-engine.mjs, with the meter agent modules get) and writes it beside dist/; hosts
// read it from there, from dist/actors/ (Node) or .vite/build/ (the desktop app's bundles).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The metered engine's file, under dist/engine/. */
export const ENGINE_FILE = 'quickjs-metered.wasm';

/**
 * Pages an engine's memory starts with. QuickJS's build declares 256 (16 MiB) and uses about 82
 * at start (its data, then a 5 MiB stack). V8 counts every instance's memory as external memory
 * and collects garbage as it grows, which took half a pool thread's time starting a thousand
 * agents, so the engine build lowers its stack to ENGINE_STACK_BYTES (the heap starts above it, at
 * about 9.4 pages) and declares this many pages, growing on demand (scripts/engine-memory.mjs).
 */
export const ENGINE_INITIAL_PAGES = 16;

// The engine's memory is also declared shared (scripts/engine-memory.mjs): V8 counts an unshared
// memory as external memory and starts a collection every 64 MiB of it, which marked every live
// agent's objects about every 60 agents of a start storm (5 s of a pool thread's 25 s at 10,000
// agents). Shared memories are not counted, so the host paces those collections itself, less
// often (engine-collector.ts). QuickJS still runs on one thread; nothing else shares the memory.

/**
 * The engine's C stack: twice the JavaScript stack QuickJS allows an agent (js-sandbox.ts), whose
 * own check fires first, so the C code below it has room to unwind.
 */
export const ENGINE_STACK_BYTES = 512 * 1024;

/** The function the metered engine imports and calls when its fuel falls below zero. */
export const ENGINE_REFUEL = { module: 'troupe', base: 'refuel' } as const;

/**
 * The metered engine's path: the nearest `engine/` or `dist/engine/` folder holding it, from this
 * code's folder up (dist/actors/ beside dist/engine/; a bundle in .vite/build/ under the app's
 * root). Throws naming the build step when none does.
 */
export function enginePath(): string {
  // A CommonJS bundle (the desktop app's hosts) has __dirname and no import.meta.url.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'engine', ENGINE_FILE), join(dir, 'dist', 'engine', ENGINE_FILE)]) {
      if (readable(candidate)) return candidate;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `the metered QuickJS engine (${ENGINE_FILE}) is not built beside ${here}: run npm run build`,
  );
}

/** Whether the file is there; under Node's permission model a folder outside the host's is not. */
function readable(path: string): boolean {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}
