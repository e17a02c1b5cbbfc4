// Issue 12's routing targets, each a ratio measured in this run: envelopes/s in the shared pool,
// scaling with K sender/receiver pairs, 10 KB payloads against naive IPC, and request/response and
// fire-and-forget against the `comedy` actor library (actors in forked processes, as Troupe's).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../dist/launch/index.js';
import { Runtime } from '../dist/supervisor/index.js';
import { naiveBaseline } from './naive.mjs';
import { hostEntry, routed, writeSystem } from './routed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const module = (name) => join(root, 'wasm', 'build', `${name}.wasm`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** comedy: sendAndReceive round trips/s and fire-and-forget sends/s to an actor in a forked process. */
async function comedy(roundTrips, sends) {
  const actors = createRequire(import.meta.url)('comedy');
  const system = actors({ log: { level: 0 }, test: true });
  try {
    const parent = await system.rootActor();
    class Echo {
      echo(value) {
        return value;
      }
      take() {}
    }
    const child = await parent.createChild(Echo, { mode: 'forked' });
    const payload = 'x'.repeat(16);
    for (let i = 0; i < 500; i++) await child.sendAndReceive('echo', payload);
    let started = performance.now();
    for (let i = 0; i < roundTrips; i++) await child.sendAndReceive('echo', payload);
    const requestResponse = roundTrips / ((performance.now() - started) / 1000);
    started = performance.now();
    for (let i = 0; i < sends; i++) child.send('take', payload);
    // The last send is received once this answer comes back (one channel, in order).
    await child.sendAndReceive('echo', payload);
    const fireAndForget = sends / ((performance.now() - started) / 1000);
    return { requestResponse, fireAndForget };
  } finally {
    await system.destroy();
  }
}

/** Troupe: two relay agents pass a counter back and forth; each hop is one tick. Round trips/s. */
export async function relayRoundTrips(work, hops, isolation) {
  const relay = module('relay');
  const spec = writeSystem(work, 'relay', [
    {
      name: 'ping',
      module: relay,
      init: `peer=pong;start=1;limit=${hops}`,
      capabilities: { sendTo: ['pong'] },
      isolation,
    },
    {
      name: 'pong',
      module: relay,
      init: `peer=ping;limit=${hops}`,
      capabilities: { sendTo: ['ping'] },
      isolation,
    },
  ]);
  let first;
  let last;
  let ticks = 0;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: true,
    onEvent: (event) => {
      if (event.type !== 'tick') return;
      if (event.tick === 1) first = performance.now();
      last = performance.now();
      ticks = event.tick;
    },
  });
  await runtime.start();
  return (ticks - 1) / 2 / ((last - first) / 1000);
}

export async function run(work, baseline16) {
  const shared = await routed(work, 4000, 500, undefined, 'shared');
  console.log(
    `shared isolation, 16 B, 4,000 envelopes per tick: ${fmt(shared)} envelopes/s = ${(shared / baseline16).toFixed(1)}x naive (target 1,000,000)`,
  );
  const byPairs = [];
  for (const pairs of [1, 8, 32])
    byPairs.push({ pairs, rate: await routed(work, 4000, 500, undefined, 'shared', { pairs }) });
  const one = byPairs[0].rate;
  console.log(
    `K sender/receiver pairs (shared, 4,000 envelopes per tick in all): ${byPairs
      .map(({ pairs, rate }) => `K=${pairs} ${fmt(rate)}/s = ${(rate / one).toFixed(2)}x`)
      .join(', ')} (target >= 0.7x of K=1)`,
  );
  const size = 10 * 1024;
  const naive10k = await naiveBaseline(20_000, size);
  for (const isolation of ['process', 'shared']) {
    const rate = await routed(work, 200, 200, undefined, isolation, { payload: size });
    console.log(
      `10 KB payloads, ${isolation}: ${fmt(rate)} envelopes/s = ${(rate / naive10k).toFixed(2)}x naive IPC (${fmt(naive10k)}/s; target 3x)`,
    );
  }
  const peer = await comedy(5000, 100_000);
  for (const isolation of ['process', 'shared']) {
    const rate = await relayRoundTrips(work, 4001, isolation);
    console.log(
      `request/response, ${isolation}: ${fmt(rate)} round trips/s = ${(rate / peer.requestResponse).toFixed(2)}x comedy sendAndReceive (${fmt(peer.requestResponse)}/s, forked; target 1.0x)`,
    );
  }
  const routedProcess = await routed(work, 4000, 500);
  console.log(
    `fire-and-forget, 16 B: troupe routed (process, 4,000 per tick) ${fmt(routedProcess)}/s = ${(routedProcess / peer.fireAndForget).toFixed(1)}x comedy send (${fmt(peer.fireAndForget)}/s)`,
  );
}
