// Cost of the fuel meter: handler throughput with and without instrumentation, in one run.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentSandbox, compileAgentModule, NO_LIMITS } from '../dist/actors/index.js';
import { loadMeter } from '../dist/supervisor/modules/index.js';

const meterModule = await loadMeter();

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function sandbox(bytes, fuel) {
  const check = compileAgentModule(bytes, 'bench');
  if (!check.ok) throw new Error(check.reason);
  const agent = AgentSandbox.instantiate(check.module, 1, { ...NO_LIMITS, fuel });
  agent.init(new Uint8Array(), 0);
  return agent;
}

/** Messages per second through one sandbox, best of three rounds. */
function throughput(agent, envelopes, rounds) {
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) agent.handle(envelopes, i + 1);
    const rate = (envelopes.length * rounds) / ((performance.now() - start) / 1000);
    best = Math.max(best, rate);
  }
  return best;
}

export function run() {
  const cases = [
    { agent: 'echo', payload: 'hello', batch: 1000, rounds: 200, what: 'echo (per-message overhead)' },
    { agent: 'work', payload: '10000', batch: 100, rounds: 20, what: 'work, 10,000 loop rounds per message' },
  ];
  for (const c of cases) {
    const plain = readFileSync(join(root, 'wasm', 'build', `${c.agent}.wasm`));
    const metered = meterModule(plain, c.agent, { maxMemoryPages: 1024 });
    if (!metered.ok) throw new Error(metered.reason);
    const payload = new TextEncoder().encode(c.payload);
    const envelopes = Array.from({ length: c.batch }, (_, i) => ({
      from: 'bench',
      to: c.agent,
      kind: 'k',
      payload,
      seq: i,
    }));
    const without = throughput(sandbox(plain, 0), envelopes, c.rounds);
    const withFuel = throughput(sandbox(metered.bytes, 2_000_000_000), envelopes, c.rounds);
    console.log(
      `fuel meter, ${c.what}: ${Math.round(withFuel).toLocaleString('en-US')} msg/s metered vs ${Math.round(without).toLocaleString('en-US')} unmetered = ${(withFuel / without).toFixed(2)}x`,
    );
  }
}
