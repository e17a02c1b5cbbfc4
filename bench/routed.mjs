// Envelopes per second routed through the supervisor from a `blaster` agent to a `sink` agent,
// shared by the routing and journal benchmarks.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../dist/launch/index.js';
import { loadSystem, Runtime } from '../dist/supervisor/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const module = (name) => join(root, 'wasm', 'build', `${name}.wasm`);
/** The same agents in TypeScript (bench/agents/), run by QuickJS. */
export const script = (name) => join(root, 'bench', 'agents', `${name}.ts`);
export const hostEntry = join(root, 'dist', 'actors', 'host-main.js');
export const PAYLOAD = 16;

export function writeSystem(work, name, agents, scheduler = {}) {
  const file = join(work, `${name}.system.yaml`);
  writeFileSync(file, JSON.stringify({ name, scheduler, agents }));
  return loadSystem(file, { root: '/' });
}

/**
 * Runs `ticks` ticks of `perTick` envelopes; `journal(spec)` may give a journal sink; `isolation`
 * puts the agents in processes (default), worker threads or the shared pool; `pairs` runs that
 * many blaster/sink pairs side by side, sharing `perTick` between them; `payload` is in bytes.
 */
export async function routed(
  work,
  perTick,
  ticks,
  journal = () => undefined,
  isolation = 'process',
  { pairs = 1, payload = PAYLOAD, language = 'assemblyscript', host = hostEntry } = {},
) {
  const each = Math.ceil(perTick / pairs);
  const js = language === 'typescript';
  const agents = Array.from({ length: pairs }, (_, i) => [
    {
      name: `blaster-${i}`,
      module: js ? script('blaster') : module('blaster'),
      init: js
        ? { to: `sink-${i}`, count: each, size: payload }
        : `to=sink-${i};count=${each};size=${payload};self=blaster-${i}`,
      // The default limits (10,000 sends per message, 10,000 envelopes per mailbox, 64 KiB per
      // message) would cut the largest batches short; a benchmark of routing raises them.
      limits: { maxSendsPerMessage: 1_000_000, maxMessageBytes: Math.max(65_536, payload) },
      capabilities: { sendTo: ['*'] },
      isolation,
    },
    {
      name: `sink-${i}`,
      module: js ? script('sink') : module('sink'),
      limits: { mailbox: 10_000_000 },
      isolation,
    },
  ]).flat();
  const spec = writeSystem(work, 'routed', agents, { maxBatch: each * 2 });
  let firstTick;
  let lastTick;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry: host,
    maxTicks: ticks,
    journal: journal(spec),
    onEvent: (event) => {
      if (event.type !== 'tick') return;
      // Timing starts when the sinks get their first batch, so start-up is not counted.
      if (event.tick === 2) firstTick = performance.now();
      lastTick = performance.now();
    },
  });
  const summary = await runtime.start();
  let sinkEnvelopes = 0;
  for (let i = 0; i < pairs; i++) sinkEnvelopes += summary.agents[`sink-${i}`].delivered - each;
  return sinkEnvelopes / ((lastTick - firstTick) / 1000);
}
