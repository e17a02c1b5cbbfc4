// Garbage collection paced by the QuickJS engines' memory. An engine's memory is a shared
// WebAssembly memory (engine-file.ts says why), which V8 does not count as external memory, so
// nothing would collect the memory of an engine that was dropped (a crash, a kill, a restart), nor
// the JavaScript garbage of making engines (about 170 KiB an engine), until the JavaScript heap
// alone asked for it. The host counts the bytes of engine memory it makes or grows and collects
// once they pass an eighth of all it has made, at least every 64 MiB (what V8 does on its own for
// unshared memory) and at most every 128 MiB: a thread's first 500 agents collect as often as
// before, and a start storm of ten thousand agents about half as often, each collection marking
// every live agent's objects.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Engine memory made or grown between two collections: at least, and at most. */
export const COLLECT_EVERY = { least: 64 * 1024 * 1024, most: 128 * 1024 * 1024 } as const;

let collect: (() => void) | null | undefined;
/** Made or grown since the last collection, and in all. */
let counted = 0;
let made = 0;

/** When to collect after `made` bytes of engine memory in all (pure). */
export function collectionPace(made: number): number {
  return Math.min(COLLECT_EVERY.most, Math.max(COLLECT_EVERY.least, made / 8));
}

/** V8's collector as a function (exposed once for the process), or null where it cannot be. */
function collector(): (() => void) | null {
  if (collect !== undefined) return collect;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') {
    collect = exposed;
    return collect;
  }
  try {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  } catch {
    // Left to V8's own pacing: correct, only slower to give memory back.
    collect = null;
  }
  return collect;
}

/** An engine made or grown by `bytes`: collects when enough has been counted since the last time. */
export function engineMemoryMade(bytes: number): void {
  counted += bytes;
  made += bytes;
  if (counted < collectionPace(made)) return;
  counted = 0;
  collector()?.();
}
