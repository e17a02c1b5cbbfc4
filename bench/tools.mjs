// Tool calls through Troupe's tool host against calling the same MCP server directly with
// @modelcontextprotocol/sdk from this script (server-everything's `echo`, over stdio), one caller
// and eight; the round trip between two agents, which every call through Troupe also makes (the
// call leaves at a tick, its answer enters at one); and the journal's bytes per call.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { NodeLauncher } from '../dist/launch/index.js';
import { JournalWriter, journalHeader, loadSystem, Runtime } from '../dist/supervisor/index.js';
import { hostEntry, script } from './routed.mjs';

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const SERVER = join(
  import.meta.dirname,
  '..',
  'node_modules',
  '@modelcontextprotocol',
  'server-everything',
  'dist',
  'index.js',
);

/** Calls per second, `callers` at once, each waiting for its answer before the next call. */
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
    await loop(); // warm-up
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, loop));
    return (each * callers) / ((performance.now() - started) / 1000);
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

/** Calls per second through Troupe: `callers` agents, each calling as soon as its answer comes. */
async function throughTroupe(work, calls, callers, journal, isolation = 'process') {
  const each = Math.ceil(calls / callers);
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
        module: script('tool-caller'),
        init: String(each),
        isolation,
        capabilities: { tools: ['everything/echo'] },
      })),
    }),
  );
  const spec = loadSystem(file, { root: '/' });
  let first;
  let last;
  let done = 0;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: true,
    ...(journal ? { journal: journal(spec) } : {}),
    onEvent: (event) => {
      if (event.type === 'tool.call') first ??= performance.now();
      if (event.type === 'agent.log' && event.text === 'done' && ++done === callers) last = performance.now();
    },
  });
  const summary = await runtime.start();
  if (!summary.ok || last === undefined)
    throw new Error(`the tools benchmark did not finish: ${summary.reason}`);
  return (each * callers) / ((last - first) / 1000);
}

function journalSink(path) {
  return (spec) => {
    const writer = new JournalWriter(path, 'none');
    writer.write(journalHeader(spec, 'bench'));
    return writer;
  };
}

export async function run() {
  const work = mkdtempSync(join(tmpdir(), 'troupe-bench-tools-'));
  try {
    for (const callers of [1, 8]) {
      const calls = 2000;
      const plain = await direct(calls, callers);
      const troupe = await throughTroupe(work, calls, callers);
      console.log(
        `tool calls, ${callers} caller${callers === 1 ? '' : 's'} (${fmt(calls)} calls of echo): through the tool host ${fmt(troupe)} calls/s = ${(troupe / plain).toFixed(2)}x calling the server directly (${fmt(plain)} calls/s)`,
      );
    }
    const plain = await direct(2000, 1);
    const threaded = await throughTroupe(work, 2000, 1, undefined, 'thread');
    console.log(
      `tool calls, 1 caller in a worker thread (isolation: thread): ${fmt(threaded)} calls/s = ${(threaded / plain).toFixed(2)}x direct (${fmt(plain)} calls/s)`,
    );
    // Eight callers on the shared pool: one thread instead of eight agent processes on two cores.
    const eight = await direct(2000, 8);
    const pooled = await throughTroupe(work, 2000, 8, undefined, 'shared');
    console.log(
      `tool calls, 8 callers on the shared pool (isolation: shared): ${fmt(pooled)} calls/s = ${(pooled / eight).toFixed(2)}x direct (${fmt(eight)} calls/s)`,
    );
    const trips = await agentRoundTrips(work, 2000);
    console.log(
      `for comparison, one agent to another and back through Troupe (TypeScript agents, two ticks): ${fmt(trips)} round trips/s`,
    );
    const sizes = [];
    for (const calls of [500, 1000]) {
      const path = join(work, `tools-${calls}.journal`);
      await throughTroupe(work, calls, 1, journalSink(path));
      sizes.push(statSync(path).size);
      rmSync(path);
    }
    console.log(`journal per tool call (echo of "hello"): ${fmt((sizes[1] - sizes[0]) / 500)} bytes`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
