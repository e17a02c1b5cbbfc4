// Start storms: time from start to every agent running, and the peak memory of all Troupe
// processes (supervisor and hosts: summed RSS, which counts shared pages once per process, and
// summed PSS, which shares them out), for 100 and 500 agents in process isolation and 1,000 and
// 10,000 in shared isolation (one process: the supervisor and its pool threads), each in
// AssemblyScript and, in shared isolation, in TypeScript (targets: 1,000 in ≤ 3 s and ≤ 600 MiB,
// 10,000 in ≤ 30 s and ≤ 4 GiB).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../dist/launch/index.js';
import { Runtime } from '../dist/supervisor/index.js';
import { hostEntry, script, writeSystem } from './routed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const echo = join(root, 'wasm', 'build', 'echo.wasm');

const PAGE_BYTES = 4096;

/**
 * RSS of a process in bytes (Linux /proc/PID/statm), and with `pss` its PSS too (smaps_rollup),
 * or zeros once it is gone. smaps_rollup walks every mapping: with a thousand WebAssembly
 * memories in the process it took 1.9 s of the supervisor's thread over a start storm, so it is
 * read once, when all agents run, and RSS alone while they start.
 */
function memory(pid, pss = false) {
  try {
    const rss = Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE_BYTES;
    if (!pss) return { rss, pss: 0 };
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss, pss: Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

export async function startStorm(work, count, isolation = 'process', module = echo) {
  const spec = writeSystem(
    work,
    `storm-${count}`,
    Array.from({ length: count }, (_, i) => ({ name: `echo-${i}`, module, isolation })),
  );
  const pids = new Set([process.pid]);
  let running = 0;
  let allRunning;
  let peak = { rss: 0, pss: 0 };
  const sample = (withPss = false) => {
    let rss = 0;
    let pss = 0;
    for (const pid of pids) {
      const m = memory(pid, withPss);
      rss += m.rss;
      pss += m.pss;
    }
    peak = { rss: Math.max(peak.rss, rss), pss: Math.max(peak.pss, pss) };
  };
  const sampler = setInterval(sample, 100);
  const began = performance.now();
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: false,
    onEvent: (event) => {
      if (event.type === 'agent.spawned' && event.pid) pids.add(event.pid);
      if (event.type === 'agent.state' && event.state === 'running' && ++running === count) {
        allRunning = performance.now() - began;
        sample(true);
        runtime.requestStop('all running');
      }
    },
  });
  const summary = await runtime.start();
  clearInterval(sampler);
  if (allRunning === undefined) throw new Error(`the storm of ${count} did not start: ${summary.reason}`);
  return { seconds: allRunning / 1000, peak };
}

/**
 * Each storm runs in a process of its own (this file, given the storm on its command line), so
 * what one storm left in the heap and the allocator is not counted in the next one's peak.
 */
export async function run(work) {
  const gib = (bytes) => (bytes / 2 ** 30).toFixed(2);
  for (const [count, isolation, language] of [
    [100, 'process', 'AssemblyScript'],
    [500, 'process', 'AssemblyScript'],
    [1000, 'shared', 'AssemblyScript'],
    [10000, 'shared', 'AssemblyScript'],
    [1000, 'shared', 'TypeScript'],
    [10000, 'shared', 'TypeScript'],
  ]) {
    const args = [fileURLToPath(import.meta.url), work, String(count), isolation, language];
    const { seconds, peak } = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
    console.log(
      `start storm, ${count} ${language} agents (${isolation} isolation): all running in ${seconds.toFixed(1)} s; peak memory of all processes: RSS ${gib(peak.rss)} GiB (PSS ${gib(peak.pss)} GiB when all ran)`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [work, count, isolation, language] = process.argv.slice(2);
  const module = language === 'TypeScript' ? script('sink') : echo;
  const result = await startStorm(work, Number(count), isolation, module);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
