// Envelopes per second routed through the supervisor from a `blaster` agent to a `sink` agent,
// shared by the routing and journal benchmarks.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../dist/launch/index.js';
import { loadSystem, Runtime } from '../dist/supervisor/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const module = (name) => join(root, 'wasm', 'build', `${name}.wasm`);
export const hostEntry = join(root, 'dist', 'actors', 'host-main.js');
export const PAYLOAD = 16;

export function writeSystem(work, name, agents, scheduler = {}) {
  const file = join(work, `${name}.system.yaml`);
  writeFileSync(file, JSON.stringify({ name, scheduler, agents }));
  return loadSystem(file, { root: '/' });
}

/**
 * Runs `ticks` ticks of `perTick` envelopes; `journal(spec)` may give a journal sink; `isolation`
 * puts both agents in processes (default) or worker threads.
 */
export async function routed(work, perTick, ticks, journal = () => undefined, isolation = 'process') {
  const spec = writeSystem(
    work,
    'routed',
    [
      {
        name: 'blaster',
        module: module('blaster'),
        init: `to=sink;count=${perTick};size=${PAYLOAD}`,
        // The default limits (10,000 sends per message, 10,000 envelopes per mailbox) would cut
        // the largest batches short; a benchmark of routing raises them.
        limits: { maxSendsPerMessage: 1_000_000 },
        capabilities: { sendTo: ['*'] },
        isolation,
      },
      { name: 'sink', module: module('sink'), limits: { mailbox: 10_000_000 }, isolation },
    ],
    { maxBatch: perTick * 2 },
  );
  let firstTick;
  let lastTick;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    maxTicks: ticks,
    journal: journal(spec),
    onEvent: (event) => {
      if (event.type !== 'tick') return;
      // Timing starts when the sink gets its first batch, so start-up is not counted.
      if (event.tick === 2) firstTick = performance.now();
      lastTick = performance.now();
    },
  });
  const summary = await runtime.start();
  const sinkEnvelopes = summary.agents.sink.delivered - perTick;
  return sinkEnvelopes / ((lastTick - firstTick) / 1000);
}
