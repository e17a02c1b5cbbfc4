// Restart latency: from a crash being detected to the agent running again, for a trap (the host
// re-instantiates the module) and for a killed process (a new host is forked, or a warm spare
// started ahead of need is taken; the bench waits 500 ms between kills so the spare is warm).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../dist/launch/index.js';
import { loadSystem, Runtime } from '../dist/supervisor/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const module = (name) => join(root, 'wasm', 'build', `${name}.wasm`);

/** `pauseMs` between a restart and the next crash: time for a warm spare to finish starting. */
async function measure(label, crashes, crash, pauseMs = 0, warmSpare = true, isolation = 'process') {
  const work = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
  try {
    const file = join(work, 'restart.system.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'restart',
        scheduler: { retryLimit: 100 },
        supervisor: {
          maxRestarts: crashes + 10,
          periodMs: 600000,
          backoff: { initialTicks: 1, multiplier: 1 },
        },
        agents: [{ name: 'picky', module: module('picky'), init: 'trapOn=13', isolation }],
      }),
    );
    const spec = loadSystem(file, { root: '/' });
    const latencies = [];
    let crashedAt;
    let count = 0;
    const runtime = new Runtime(spec, {
      launcher: new NodeLauncher(),
      hostEntry: join(root, 'dist', 'actors', 'host-main.js'),
      warmSpare,
      onEvent: (event) => {
        if (event.type === 'agent.crashed') crashedAt = performance.now();
        if (event.type === 'agent.state' && event.state === 'running') {
          if (crashedAt !== undefined) latencies.push(performance.now() - crashedAt);
          crashedAt = undefined;
          if (count++ < crashes) setTimeout(() => crash(runtime), pauseMs);
          else runtime.requestStop('done');
        }
      },
    });
    await runtime.start();
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)];
    const p95 = latencies[Math.floor(latencies.length * 0.95)];
    console.log(
      `restart latency, ${label} (${latencies.length} restarts): median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function run() {
  await measure('WASM trap, same host', 90, (runtime) =>
    runtime.inject('picky', 'hop', new TextEncoder().encode('13')),
  );
  await measure('host process killed, no spare', 20, (runtime) => runtime.kill('picky'), 0, false);
  await measure('host process killed, warm spare', 20, (runtime) => runtime.kill('picky'), 500);
  const kill = (runtime) => runtime.kill('picky');
  await measure('host thread terminated, no spare', 20, kill, 0, false, 'thread');
  await measure('host thread terminated, warm spare', 20, kill, 500, true, 'thread');
}
