// TypeScript agents (QuickJS in WebAssembly) against AssemblyScript agents, in one run:
//   1. routed envelopes/s, 16 B, shared isolation, blaster → sink written in each language;
//   2. memory per agent in shared isolation: resident memory of the process with 200 idle agents
//      of each language, over the same process with none;
//   3. cold start of one agent: instantiation (fresh QuickJS, bundle evaluated, init) against a
//      WebAssembly agent's, the median of 30 in this process.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentSandbox, compileAgentModule, JsSandbox, NO_LIMITS } from '../dist/actors/index.js';
import { NodeLauncher } from '../dist/launch/index.js';
import { Runtime } from '../dist/supervisor/index.js';
import { bundleAgent } from '../dist/supervisor/js-bundler.js';
import { hostEntry, routed, script, writeSystem } from './routed.mjs';
import { unmeteredHostEntry } from './unmetered-engine.mjs';

const root = join(hostEntry, '..', '..', '..');

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Resident memory of this process (the shared pool's threads are in it) once `count` agents run. */
async function idleRss(work, language, count) {
  const module = language === 'typescript' ? script('sink') : join(root, 'wasm', 'build', 'sink.wasm');
  const agents = Array.from({ length: count }, (_, i) => ({
    name: `sink-${i}`,
    module,
    isolation: 'shared',
  }));
  const spec = writeSystem(work, `idle-${language}-${count}`, agents);
  let running = 0;
  let rss = 0;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    onEvent: (event) => {
      if (event.type !== 'agent.state' || event.state !== 'running') return;
      if (++running < count) return;
      globalThis.gc?.();
      rss = process.memoryUsage().rss;
      runtime.requestStop('measured', true);
    },
  });
  await runtime.start();
  return rss;
}

async function coldStart() {
  const sink = compileAgentModule(readFileSync(join(root, 'wasm', 'build', 'sink.wasm')), 'sink');
  const bundle = await bundleAgent(script('sink'), root);
  if (!sink.ok || !bundle.ok) throw new Error('cannot prepare the sinks');
  const limits = { ...NO_LIMITS, memoryPages: 1024 };
  const time = async (make) => {
    const samples = [];
    for (let i = 0; i < 30; i++) {
      const begun = performance.now();
      const sandbox = await make();
      sandbox.start(0);
      sandbox.init(new Uint8Array(0), 0, 1);
      samples.push(performance.now() - begun);
    }
    return median(samples);
  };
  const wasm = await time(async () => AgentSandbox.instantiate(sink.module, 1, limits));
  const js = await time(() => JsSandbox.create({ code: bundle.code, file: 'sink.ts' }, 'sink', 1, limits));
  return { wasm, js };
}

async function isolated(language, count) {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), 'rss', language, String(count)],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.trim().split('\n').pop());
}

export async function run(work, log) {
  log('\nTypeScript agents (QuickJS) against AssemblyScript agents');
  const as = await routed(work, 1000, 200, undefined, 'shared');
  const ts = await routed(work, 1000, 200, undefined, 'shared', { language: 'typescript' });
  log(
    `  routed 16 B, shared, 1,000/tick: AssemblyScript ${Math.round(as)}/s, TypeScript ${Math.round(ts)}/s = ${(ts / as).toFixed(2)}× (target ≥ 0.3×)`,
  );
  // The engine metered for fuel (every function entry and loop header of QuickJS's own code)
  // against the same engine without the meter, in the same run.
  const host = unmeteredHostEntry();
  const unmetered = await routed(work, 1000, 200, undefined, 'shared', { language: 'typescript', host });
  const metered = await routed(work, 1000, 200, undefined, 'shared', { language: 'typescript' });
  log(
    `  TypeScript routed 16 B, shared, 1,000/tick: metered engine ${Math.round(metered)}/s, unmetered ${Math.round(unmetered)}/s = ${(metered / unmetered).toFixed(2)}× (target ≥ 0.9×)`,
  );
  // Each in a fresh process, so one measure's garbage does not count in the next.
  const count = 200;
  const base = await isolated('assemblyscript', 1);
  const asRss = await isolated('assemblyscript', count);
  const tsRss = await isolated('typescript', count);
  const mb = (bytes) => (bytes / 1048576).toFixed(2);
  log(
    `  memory per agent, shared, ${count} idle agents: AssemblyScript ${mb((asRss - base) / count)} MB, TypeScript ${mb((tsRss - base) / count)} MB (target ≤ 2 MB)`,
  );
  const start = await coldStart();
  log(
    `  cold start (instantiate + start + init, median of 30): WebAssembly ${start.wasm.toFixed(2)} ms, TypeScript ${start.js.toFixed(2)} ms`,
  );
}

if (process.argv[2] === 'rss') {
  const [, , , language, count] = process.argv;
  process.stdout.write(
    `${await idleRss(mkdtempSync(join(tmpdir(), 'troupe-rss-')), language, Number(count))}\n`,
  );
}
