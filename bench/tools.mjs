// Tool calls through Troupe's tool host against calling the same MCP server directly with
// @modelcontextprotocol/sdk from this script (server-everything's `echo`, over stdio), one caller
// and eight, each side warmed up by as many calls as it is timed on; beside them, the same chain
// of processes doing no work (tool-floor.mjs: the most the design can reach here) and the CPU a
// call costs in all processes; the same caller in AssemblyScript (wasm/agents/tool-caller.ts), to
// show what the QuickJS turn costs. Then the round trip between two agents, which every call through
// Troupe also makes (the call leaves at a tick, its answer enters at one), and the journal's bytes
// per call.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { NodeLauncher } from '../dist/launch/index.js';
import { JournalWriter, journalHeader, loadSystem, Runtime } from '../dist/supervisor/index.js';
import { cpuPerCall, treeCpuSeconds } from './cpu-tree.mjs';
import { hostEntry, script } from './routed.mjs';
import { toolFloor } from './tool-floor.mjs';

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ROOT = join(import.meta.dirname, '..');
const SERVER = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

/**
 * Calls per second (and CPU µs per call), `callers` at once, each waiting for its answer before
 * its next; timed after as many calls have warmed the server up.
 */
async function direct(calls, callers) {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [SERVER, 'stdio'], stderr: 'ignore' }),
  );
  try {
    const each = Math.ceil(calls / callers);
    const loop = async () => {
      for (let i = 0; i < each; i++) await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    };
    await Promise.all(Array.from({ length: callers }, loop)); // warm-up
    const cpu = treeCpuSeconds();
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, loop));
    const seconds = (performance.now() - started) / 1000;
    return { rate: (each * callers) / seconds, cpuUs: cpuPerCall(cpu, treeCpuSeconds(), each * callers) };
  } finally {
    await client.close();
  }
}

/** Round trips per second between two TypeScript agents: what every call through Troupe also pays. */
async function agentRoundTrips(work, trips) {
  const file = join(work, 'pingpong.system.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'pingpong',
      agents: [
        { name: 'ping', module: script('ping'), init: String(trips), capabilities: { sendTo: ['pong'] } },
        { name: 'pong', module: script('pong'), capabilities: { sendTo: ['ping'] } },
      ],
    }),
  );
  let first;
  let last;
  const runtime = new Runtime(loadSystem(file, { root: '/' }), {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: true,
    onEvent: (event) => {
      if (event.type === 'tick' && event.tick === 2) first = performance.now();
      if (event.type === 'agent.log' && event.text === 'done') last = performance.now();
    },
  });
  await runtime.start();
  return (trips - 1) / ((last - first) / 1000);
}

/**
 * Calls per second (and CPU µs per call) through Troupe: `callers` agents, each calling as soon as
 * its answer comes; timed after as many calls as are timed have warmed it up (`warm`).
 */
async function throughTroupe(
  work,
  calls,
  callers,
  { journal, isolation = 'process', warm = true, language = 'typescript' } = {},
) {
  const each = Math.ceil(calls / callers);
  const warmCalls = warm ? each * callers : 0;
  const made = each + warmCalls / callers;
  const caller =
    language === 'typescript'
      ? { module: script('tool-caller'), init: String(made) }
      : { module: join(ROOT, 'wasm', 'build', 'tool-caller.wasm'), init: `calls=${made}` };
  const file = join(work, 'tools.system.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'tools',
      tools: [
        {
          name: 'everything',
          mcp: { command: process.execPath, args: [SERVER, 'stdio'] },
          maxConcurrent: callers,
        },
      ],
      agents: Array.from({ length: callers }, (_, i) => ({
        name: `caller-${i}`,
        ...caller,
        isolation,
        capabilities: { tools: ['everything/echo'] },
      })),
    }),
  );
  const spec = loadSystem(file, { root: '/' });
  let first;
  let last;
  let cpu;
  let cpuAfter;
  let released = 0;
  let done = 0;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: true,
    ...(journal ? { journal: journal(spec) } : {}),
    onEvent: (event) => {
      if (event.type === 'tool.call' && released++ === warmCalls) {
        cpu = treeCpuSeconds();
        first = performance.now();
      }
      if (event.type === 'agent.log' && event.text === 'done' && ++done === callers) {
        last = performance.now();
        cpuAfter = treeCpuSeconds();
      }
    },
  });
  const summary = await runtime.start();
  if (!summary.ok || last === undefined)
    throw new Error(`the tools benchmark did not finish: ${summary.reason}`);
  return {
    rate: (each * callers) / ((last - first) / 1000),
    cpuUs: cpuPerCall(cpu, cpuAfter, each * callers),
  };
}

function journalSink(path) {
  return (spec) => {
    const writer = new JournalWriter(path, 'none');
    writer.write(journalHeader(spec, 'bench'));
    return writer;
  };
}

/**
 * One line: through Troupe, the empty chain (when there is one to set beside it) and the direct
 * call, as rates and ratios, and CPU per call.
 */
function report(label, troupe, floor, plain) {
  const ratio = (measure) => `${fmt(measure.rate)} calls/s = ${(measure.rate / plain.rate).toFixed(2)}x`;
  const empty = floor
    ? `; the same chain of processes doing no work (the most this design reaches here) ${ratio(floor)}`
    : '';
  const cpu =
    troupe.cpuUs === undefined
      ? ''
      : `; CPU per call, all processes: ${fmt(troupe.cpuUs)} us through Troupe${floor ? `, ${fmt(floor.cpuUs)} us in the empty chain` : ''}, ${fmt(plain.cpuUs)} us direct`;
  console.log(
    `tool calls, ${label}: through the tool host ${ratio(troupe)}${empty}; calling the server directly ${fmt(plain.rate)} calls/s${cpu}`,
  );
}

export async function run() {
  const work = mkdtempSync(join(tmpdir(), 'troupe-bench-tools-'));
  const calls = 2000;
  try {
    for (const callers of [1, 8]) {
      const plain = await direct(calls, callers);
      const floor = await toolFloor(SERVER, calls, callers);
      const troupe = await throughTroupe(work, calls, callers);
      report(
        `${callers} caller${callers === 1 ? '' : 's'} (${fmt(calls)} calls of echo)`,
        troupe,
        floor,
        plain,
      );
    }
    const one = await direct(calls, 1);
    const threaded = await throughTroupe(work, calls, 1, { isolation: 'thread' });
    report('1 caller in a worker thread (isolation: thread)', threaded, undefined, one);
    // The same caller in AssemblyScript: what the QuickJS turn costs of a call.
    const compiled = await direct(calls, 1);
    const assembly = await throughTroupe(work, calls, 1, { language: 'assemblyscript' });
    report('1 caller written in AssemblyScript', assembly, undefined, compiled);
    // Eight callers on the shared pool: one thread instead of eight agent processes on two cores.
    const eight = await direct(calls, 8);
    const pooled = await throughTroupe(work, calls, 8, { isolation: 'shared' });
    const floor = await toolFloor(SERVER, calls, 8, { shared: true });
    report('8 callers on the shared pool (isolation: shared)', pooled, floor, eight);
    const trips = await agentRoundTrips(work, 2000);
    console.log(
      `for comparison, one agent to another and back through Troupe (TypeScript agents, two ticks): ${fmt(trips)} round trips/s`,
    );
    const sizes = [];
    for (const count of [500, 1000]) {
      const path = join(work, `tools-${count}.journal`);
      await throughTroupe(work, count, 1, { journal: journalSink(path), warm: false });
      sizes.push(statSync(path).size);
      rmSync(path);
    }
    console.log(`journal per tool call (echo of "hello"): ${fmt((sizes[1] - sizes[0]) / 500)} bytes`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
