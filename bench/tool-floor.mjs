// The floor under a tool call through Troupe on this machine: the same chain of processes a call
// crosses (agent process → supervisor → tool host process → MCP server, and back), each doing
// nothing but pass the frame on (no tick, no sandbox, no protobuf, no journal). No implementation
// of that design can make more calls per second than this; bench/tools.mjs sets it beside the
// direct call and the real figure.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FrameReader, writeFrame } from '../dist/launch/frame-stream.js';
import { cpuPerCall, treeCpuSeconds } from './cpu-tree.mjs';

const RELAY = join(import.meta.dirname, 'hop-relay.mjs');

function relay(role, server) {
  const child = spawn(process.execPath, [RELAY], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    env: { ...process.env, ROLE: role, SERVER: server },
  });
  const pipe = child.stdio[3];
  let listener = () => {};
  let up;
  const ready = new Promise((resolve, reject) => {
    up = resolve;
    child.once('exit', (code) => reject(new Error(`a ${role} relay ended before it was ready (${code})`)));
  });
  const reader = new FrameReader(1 << 20, {
    frame: (frame) => {
      if (!up) return listener(frame);
      up();
      up = undefined;
    },
    oversize: () => {},
  });
  pipe.on('data', (chunk) => reader.push(chunk));
  pipe.on('error', () => {});
  return {
    role,
    ready,
    child,
    onFrame: (callback) => (listener = callback),
    send: (frame) => writeFrame(pipe, frame),
  };
}

/**
 * Calls per second (and CPU microseconds per call, all processes) through the relays: `callers`
 * at once, each calling again when its answer comes; every caller in a process of its own, or
 * (`shared`) all in one, as the shared pool has them.
 */
export async function toolFloor(server, calls, callers, { shared = false } = {}) {
  const tools = relay('tools', server);
  const one = shared ? relay('agent', server) : undefined;
  const agents = Array.from({ length: callers }, () => one ?? relay('agent', server));
  const processes = [tools, ...new Set(agents)];
  // A relay that ends stops the benchmark instead of leaving it waiting for an answer.
  const ended = new Promise((_, reject) => {
    for (const { role, child } of processes)
      child.once('exit', (code, signal) => reject(new Error(`a ${role} relay ended (${code ?? signal})`)));
  });
  ended.catch(() => {}); // when they are killed at the end
  try {
    await Promise.all(processes.map((member) => member.ready));
    for (const agent of new Set(agents)) agent.onFrame((frame) => tools.send(frame));
    const each = Math.ceil(calls / callers);
    await Promise.race([round(tools, agents, each), ended]); // warm-up, as the direct calls have
    const cpu = treeCpuSeconds();
    const started = performance.now();
    await Promise.race([round(tools, agents, each), ended]);
    const seconds = (performance.now() - started) / 1000;
    return { rate: (each * callers) / seconds, cpuUs: cpuPerCall(cpu, treeCpuSeconds(), each * callers) };
  } finally {
    for (const { child } of processes) child.kill();
  }
}

/** Each caller makes `each` calls, one at a time; resolves when all have their last answer. */
function round(tools, agents, each) {
  const left = agents.map(() => each);
  let finished = 0;
  return new Promise((resolve) => {
    tools.onFrame((frame) => {
      const caller = frame[0];
      if (--left[caller] > 0) agents[caller].send(frame);
      else if (++finished === agents.length) resolve();
    });
    for (const [caller, agent] of agents.entries()) agent.send(Buffer.from([caller]));
  });
}
