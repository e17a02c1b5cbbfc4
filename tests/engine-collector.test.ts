// The QuickJS engines' memories are shared WebAssembly memories, which V8 does not count as
// external memory (src/actors/engine-file.ts): the host collects garbage itself, paced by the
// engine memory it makes (src/actors/engine-collector.ts). Without that pacing, engines that grow
// and are dropped (a crash, a kill, a restart) would pile up until the JavaScript heap asked for a
// collection, which dropping engines alone never does.
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { COLLECT_EVERY, collectionPace } from '../src/actors/engine-collector.js';
import { createEngine, engineClock } from '../src/actors/quickjs-engine.js';

const MIB = 1024 * 1024;
const rss = () => Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[1]) * 4096;

/** An engine whose JavaScript fills `mib` MiB of its heap (every page touched), then dropped. */
async function growAndDrop(mib: number): Promise<void> {
  const engine = await createEngine(1024, engineClock());
  const runtime = engine.module.newRuntime({ memoryLimitBytes: 60 * MIB, maxStackSizeBytes: 256 * 1024 });
  const context = runtime.newContext();
  const result = context.evalCode(`globalThis.kept = new Uint8Array(${mib * MIB}).fill(1); kept.length`);
  expect(context.getNumber(context.unwrapResult(result))).toBe(mib * MIB);
}

describe('garbage collection paced by engine memory', { timeout: 120_000 }, () => {
  it('collects every eighth of the engine memory made, between its least and most', () => {
    expect(collectionPace(0)).toBe(COLLECT_EVERY.least);
    expect(collectionPace(8 * COLLECT_EVERY.least)).toBe(COLLECT_EVERY.least);
    expect(collectionPace(12 * COLLECT_EVERY.least)).toBe(1.5 * COLLECT_EVERY.least);
    expect(collectionPace(1024 * COLLECT_EVERY.most)).toBe(COLLECT_EVERY.most);
  });

  it('runs full collections as engines are made', async () => {
    let major = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
          major++;
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      // 24 MiB each: about 600 MiB made, several times the pace. Node reports collections later.
      for (let i = 0; i < 25; i++) await growAndDrop(24);
      await expect.poll(() => major).toBeGreaterThanOrEqual(3);
    } finally {
      observer.disconnect();
    }
  });

  it('gives back the memory of dropped engines: 40 engines of 32 MiB never hold more than a few at once', async () => {
    const before = rss();
    let peak = before;
    for (let i = 0; i < 40; i++) {
      await growAndDrop(32);
      peak = Math.max(peak, rss());
    }
    // 40 engines kept would be 1,280 MiB; collected on pace, a few hundred at most.
    expect((peak - before) / MIB).toBeLessThan(600);
  });
});
