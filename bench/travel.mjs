// Time travel on a long journal: two relay agents pass a counter for 100,000 ticks (one hop a
// tick, `shared` isolation); the journal is opened for time travel (replayed once into the index)
// and then seeks go to random ticks. A seek reads at most the keyframe interval's deliveries, so
// its cost does not grow with the tick sought; replaying up to the tick (what `troupe inspect
// --tick N` does) grows with N. Both are measured here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indexJournal } from '../dist/cli/inspect-travel.js';
import { TravelSession, treeRows } from '../dist/dashboard/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const relay = join(root, 'wasm', 'build', 'relay.wasm');
const fmt = (n) => Math.round(n).toLocaleString('en-US');

export async function run(ticks = 100_000) {
  const work = mkdtempSync(join(tmpdir(), 'troupe-bench-travel-'));
  try {
    const system = join(work, 'relay.system.yaml');
    const agent = (name, init) => ({
      name,
      module: relay,
      init,
      isolation: 'shared',
      capabilities: { sendTo: ['*'] },
    });
    writeFileSync(
      system,
      JSON.stringify({
        name: 'relay',
        agents: [
          agent('ping', `peer=pong;start=1;limit=${ticks}`),
          agent('pong', `peer=ping;limit=${ticks}`),
        ],
      }),
    );
    const journal = join(work, 'relay.journal');
    let started = performance.now();
    execFileSync(
      process.execPath,
      [join(root, 'bin', 'troupe.js'), 'run', system, '--until-idle', '--journal', journal, '--root', '/'],
      {
        stdio: 'ignore',
      },
    );
    const recordS = (performance.now() - started) / 1000;
    started = performance.now();
    const heapBefore = process.memoryUsage().heapUsed;
    const { index, spec } = await indexJournal({ journal, dashboard: true, json: false, root: '/' });
    const openS = (performance.now() - started) / 1000;
    globalThis.gc?.();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    const session = new TravelSession(index, {
      system: spec.name,
      journal,
      lastTick: index.lastTick,
      rows: treeRows(spec.supervisor),
      marks: [],
      openAt: 1,
    });
    const times = [];
    let state = 7;
    for (let i = 0; i < 2000; i++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const tick = 1 + (state % index.lastTick);
      const at = performance.now();
      session.seek(tick, 'ping');
      times.push(performance.now() - at);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1];
    const p99 = times[Math.floor(times.length * 0.99)];
    console.log(
      `time travel: a journal of ${fmt(index.lastTick)} ticks (recorded in ${recordS.toFixed(1)} s) opened in ${openS.toFixed(1)} s (one replay into the index, ${heapMb.toFixed(0)} MB of heap); a seek to a random tick: median ${median.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${times.at(-1).toFixed(3)} ms (2,000 seeks) — replaying up to tick N instead costs about N/${fmt(index.lastTick / openS)} s`,
    );
    return { ticks: index.lastTick, openS, median, p99 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(Number(process.argv[2] ?? 100_000));
