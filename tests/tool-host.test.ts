// The tool host (issue 28, second part), a real process under the permission model as the runtime
// starts it, with real MCP servers: calls answered exactly once, a server that dies mid-call
// answered LOST and started again, the bounds of a call, and nothing left running.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HostProcess, NodeLauncher } from '../src/launch/index.js';
import { decodeToolFrame, encodeToolFrame, type ToolCommand, type ToolEvent } from '../src/protocol/index.js';
import { type ToolServerSpec, wireOf } from '../src/supervisor/index.js';
import { expectAllEnded } from './helpers/cli.js';
import { FIXTURES, ROOT, TOOL_ENTRY } from './helpers/paths.js';
import { tempDir } from './helpers/system.js';

const hosts: HostProcess[] = [];
const pids: number[] = [];

afterEach(async () => {
  for (const host of hosts.splice(0)) host.kill();
  await expectAllEnded(pids.splice(0));
});

const stdio = (name: string, args: string[], bounds: Partial<ToolServerSpec> = {}): ToolServerSpec => ({
  name,
  transport: { type: 'stdio', command: process.execPath, args, env: {}, cwd: tempDir() },
  timeoutMs: 10_000,
  maxAnswerBytes: 1024 * 1024,
  maxConcurrent: 4,
  ...bounds,
});
const npmServer = (name: string) =>
  join(ROOT, 'node_modules', '@modelcontextprotocol', `server-${name}`, 'dist', 'index.js');
const crashing = (bounds: Partial<ToolServerSpec> = {}) =>
  stdio('crashing', [join(FIXTURES, 'mcp', 'crashing-server.mjs')], bounds);

/** The tool host, with its events kept and awaited one kind at a time. */
function toolHost(servers: ToolServerSpec[]) {
  const host = new NodeLauncher().spawn({ entry: TOOL_ENTRY, name: 'tool-host', tools: true, readPaths: [] });
  hosts.push(host);
  if (host.pid) pids.push(host.pid);
  const events: ToolEvent[] = [];
  const waiters: Array<() => void> = [];
  host.onFrame((bytes) => {
    const decoded = decodeToolFrame(bytes);
    if (!decoded.ok) throw new Error(decoded.error);
    events.push(...decoded.frame.events);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => host.onExit((info) => resolve(info.code)));
  const send = (...commands: ToolCommand[]) => host.send(encodeToolFrame({ commands }));
  /** Resolves with the first event (from `from` on) that matches. */
  const next = async <T>(pick: (event: ToolEvent) => T | undefined | null, from = 0): Promise<T> => {
    for (;;) {
      for (const event of events.slice(from)) {
        const found = pick(event);
        if (found) return found;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const answer = (id: string) => next((event) => (event.answer?.id === id ? event.answer : undefined));
  const call = (id: string, server: string, tool: string, args: object = {}) =>
    send({ call: { id, server, tool, arguments: JSON.stringify(args) } });
  send({ start: { servers: servers.map(wireOf) } });
  return { host, events, send, next, answer, call, exited };
}

describe('the tool host', () => {
  it('starts real MCP servers and answers every call once, in the protocol', {
    timeout: 60_000,
  }, async () => {
    // The memory server keeps its graph in a file: a fresh one (by default it writes beside its code).
    const mem = stdio('mem', [npmServer('memory')]);
    const memory = { MEMORY_FILE_PATH: join(tempDir(), 'memory.jsonl') };
    const tools = toolHost([
      { ...mem, transport: { ...mem.transport, env: memory } } as ToolServerSpec,
      crashing(),
    ]);
    const ready = await tools.next((event) => (event.ready?.server === 'mem' ? event.ready : undefined));
    expect(ready.tools?.map((tool) => tool.name)).toContain('create_entities');
    pids.push(ready.pid ?? 0);
    const entity = { name: 'troupe', entityType: 'project', observations: ['actors on wasm'] };
    tools.call('a#1', 'mem', 'create_entities', { entities: [entity] });
    expect((await tools.answer('a#1')).result).toContain('actors on wasm');
    tools.call('a#2', 'mem', 'read_graph');
    expect(JSON.parse((await tools.answer('a#2')).result ?? '')).toMatchObject({
      content: [{ type: 'text' }],
    });
    tools.call('a#3', 'nowhere', 'x');
    expect(await tools.answer('a#3')).toMatchObject({
      errorCode: 'UNKNOWN_SERVER',
      errorMessage: 'no tool server named "nowhere"',
    });
    tools.send({ call: { id: 'a#4', server: 'mem', tool: 'read_graph', arguments: '[1, 2' } });
    expect(await tools.answer('a#4')).toMatchObject({ errorCode: 'TOOL_ERROR' });
    tools.call('a#5', 'crashing', 'no-such');
    expect(await tools.answer('a#5')).toMatchObject({
      errorCode: 'TOOL_ERROR',
      errorMessage: '"crashing/no-such": no tool no-such',
    });
    tools.send({ stop: { reason: 'test over' } });
    expect(await tools.exited).toBe(0);
    // One answer per call, whatever happened to it.
    const ids = tools.events.flatMap((event) => (event.answer ? [event.answer.id] : []));
    expect(ids.sort()).toEqual(['a#1', 'a#2', 'a#3', 'a#4', 'a#5']);
  });

  it('answers a call whose server died during it LOST, once, starts the server again and serves the next call', {
    timeout: 60_000,
  }, async () => {
    const tools = toolHost([crashing()]);
    const first = await tools.next((event) => event.ready ?? undefined);
    pids.push(first.pid ?? 0);
    tools.call('b#1', 'crashing', 'crash');
    const lost = await tools.answer('b#1');
    expect(lost.errorCode).toBe('LOST');
    expect(lost.errorMessage).toContain('the tool server ended during the call');
    expect(lost.errorMessage).toContain('crashing as asked');
    expect(lost.errorMessage).toContain('it was not retried (the tool may have acted)');
    // A call made while it restarts waits for it.
    tools.call('b#2', 'crashing', 'echo', { text: 'again' });
    const second = await tools.next((event) => (event.ready?.restarts === 1 ? event.ready : undefined));
    pids.push(second.pid ?? 0);
    expect(second.pid).not.toBe(first.pid);
    expect((await tools.answer('b#2')).result).toContain(`again from ${second.pid}`);
    tools.send({ stop: { reason: 'test over' } });
    expect(await tools.exited).toBe(0);
    expect(tools.events.filter((event) => event.answer?.id === 'b#1')).toHaveLength(1);
  });

  it('bounds a call by its timeout and its answer by its bytes, and runs at most maxConcurrent at once', {
    timeout: 60_000,
  }, async () => {
    const tools = toolHost([crashing({ timeoutMs: 1000, maxAnswerBytes: 2048, maxConcurrent: 1 })]);
    pids.push((await tools.next((event) => event.ready ?? undefined)).pid ?? 0);
    tools.call('c#1', 'crashing', 'hang');
    tools.call('c#2', 'crashing', 'big', { bytes: 100 });
    tools.call('c#3', 'crashing', 'big', { bytes: 10_000 });
    expect(await tools.answer('c#1')).toMatchObject({
      errorCode: 'TIMEOUT',
      errorMessage: '"crashing/hang" did not answer within 1000 ms (timeoutMs)',
    });
    expect((await tools.answer('c#2')).result).toContain('x'.repeat(100));
    expect((await tools.answer('c#3')).errorMessage).toMatch(
      /^"crashing\/big" answered \d+ bytes, above its maxAnswerBytes 2048$/,
    );
    // One at a time: the answers came in the order of the calls, the hanging one first.
    const order = tools.events.flatMap((event) => (event.answer ? [event.answer.id] : []));
    expect(order).toEqual(['c#1', 'c#2', 'c#3']);
    tools.send({ stop: { reason: 'test over' } });
    expect(await tools.exited).toBe(0);
  });

  it('answers calls to a server that cannot start FAILED, with what it said', {
    timeout: 60_000,
  }, async () => {
    const broken = stdio('broken', ['-e', "process.stderr.write('missing settings'); process.exit(3)"]);
    const tools = toolHost([broken]);
    tools.call('d#1', 'broken', 'anything');
    const failed = await tools.next((event) => event.failed ?? undefined);
    expect(failed.reason).toContain('(it said: missing settings)');
    expect(await tools.answer('d#1')).toMatchObject({ errorCode: 'FAILED' });
    tools.call('d#2', 'broken', 'anything');
    expect((await tools.answer('d#2')).errorMessage).toContain('tool server "broken" is not running');
    tools.send({ stop: { reason: 'test over' } });
    expect(await tools.exited).toBe(0);
  });
});
