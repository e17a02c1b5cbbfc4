// Troupe benchmarks, reported as ratios against a baseline measured in the same run.
//   1. envelopes/s routed through the supervisor between two agent processes, against naive IPC
//      with one send per message routed through the parent (same payload size); in the shared
//      pool, with K sender/receiver pairs, with 10 KB payloads, and request/response and
//      fire-and-forget against the `comedy` actor library (peers.mjs);
//   2. spawn-to-ready time per agent; start storms of 100 and 500 agents: time to all running and
//      peak memory (start.mjs);
//   3. fuel meter cost (fuel.mjs), restart latency (restart.mjs), journal cost (journal.mjs);
//   4. the GPU host: batching, round-trip latency and responsiveness (inference.mjs);
//   5. text generation: continuous batching against one at a time, time to first token, one stream
//      against a plain onnxruntime-node loop, 8 streams against transformers.js (generate.mjs,
//      plain-decoder.mjs, transformers-peer.mjs);
//   6. TypeScript agents (QuickJS) against AssemblyScript ones: throughput, memory, cold start (js-agents.mjs);
//   7. tool calls through the tool host against calling the MCP server directly (tools.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../dist/launch/index.js';
import { Runtime } from '../dist/supervisor/index.js';
import { run as clusterBench } from './cluster.mjs';
import { run as fuelBench } from './fuel.mjs';
import { run as generateBench, manyStreams, prefixSharing, quantized } from './generate.mjs';
import { run as inferenceBench } from './inference.mjs';
import { run as journalBench } from './journal.mjs';
import { run as jsAgentsBench } from './js-agents.mjs';
import { naiveBaseline } from './naive.mjs';
import { run as peersBench } from './peers.mjs';
import { run as restartBench } from './restart.mjs';
import { hostEntry, PAYLOAD, routed, writeSystem } from './routed.mjs';
import { run as startBench } from './start.mjs';
import { run as toolsBench } from './tools.mjs';
import { run as travelBench } from './travel.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const module = (name) => join(root, 'wasm', 'build', `${name}.wasm`);
const work = mkdtempSync(join(tmpdir(), 'troupe-bench-'));

async function spawnToReady(agents) {
  const spec = writeSystem(
    work,
    'spawn',
    Array.from({ length: agents }, (_, i) => ({ name: `echo-${i}`, module: module('echo') })),
  );
  const spawned = new Map();
  const ready = [];
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: true,
    onEvent: (event) => {
      if (event.type === 'agent.spawned') spawned.set(event.agent, performance.now());
      if (event.type === 'agent.state' && event.state === 'running')
        ready.push(performance.now() - spawned.get(event.agent));
    },
  });
  await runtime.start();
  ready.sort((a, b) => a - b);
  return { median: ready[Math.floor(ready.length / 2)], max: ready.at(-1) };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const results = [];
try {
  const baselineCount = 100_000;
  const baseline = await naiveBaseline(baselineCount, PAYLOAD);
  console.log(`naive IPC, one send per message (${fmt(baselineCount)} messages): ${fmt(baseline)} msg/s`);
  for (const perTick of [1000, 4000, 16000]) {
    const ticks = Math.max(20, Math.ceil(2_000_000 / perTick));
    const rate = await routed(work, perTick, ticks);
    results.push({ perTick, rate });
    console.log(
      `troupe routed, ${fmt(perTick)} envelopes per tick (${ticks} ticks): ${fmt(rate)} envelopes/s = ${(rate / baseline).toFixed(1)}x naive`,
    );
  }
  for (const perTick of [1000, 4000]) {
    const ticks = Math.ceil(2_000_000 / perTick);
    const process = await routed(work, perTick, ticks);
    const thread = await routed(work, perTick, ticks, undefined, 'thread');
    console.log(
      `isolation, ${fmt(perTick)} envelopes per tick: thread ${fmt(thread)} envelopes/s = ${(thread / process).toFixed(2)}x process (${fmt(process)})`,
    );
  }
  const single = await spawnToReady(1);
  console.log(`spawn to ready, 1 agent: ${single.median.toFixed(0)} ms`);
  const spawn = await spawnToReady(8);
  console.log(
    `spawn to ready, 8 agents started together: median ${spawn.median.toFixed(0)} ms, max ${spawn.max.toFixed(0)} ms`,
  );
  const best = results.reduce((a, b) => (b.rate > a.rate ? b : a));
  console.log(
    `\nsummary: best ${fmt(best.rate)} envelopes/s (${fmt(best.perTick)}/tick), ${(best.rate / baseline).toFixed(1)}x the naive baseline of ${fmt(baseline)} msg/s`,
  );
  console.log('');
  await peersBench(work, baseline);
  await jsAgentsBench(work, console.log);
  console.log('');
  await startBench(work);
  console.log('');
  fuelBench();
  await restartBench();
  console.log('');
  await journalBench();
  console.log('');
  await inferenceBench(work);
  console.log('');
  await generateBench(work);
  console.log('');
  await manyStreams(work);
  console.log('');
  await prefixSharing(work);
  console.log('');
  await quantized(work);
  console.log('');
  await toolsBench();
  console.log('');
  await travelBench();
  console.log('');
  await clusterBench();
} finally {
  rmSync(work, { recursive: true, force: true });
}
