// The dashboard's pure parts: the view model (tree rows, rates, coalesced trace, dead letters)
// and the command checks.
import { describe, expect, it } from 'vitest';
import { DashboardModel, parseCommand, type RuntimeView } from '../src/dashboard/index.js';
import { encodeGenerateToken, GENERATE_TOKEN_KIND } from '../src/protocol/index.js';
import { agentModule } from './helpers/paths.js';
import { removeTempDirs, writeSystem } from './helpers/system.js';

const spec = () => {
  const echo = agentModule('echo');
  const spec = writeSystem({
    agents: [
      { name: 'a', module: echo },
      {
        supervisor: 'workers',
        strategy: 'one_for_all',
        agents: [
          { name: 'b', module: echo },
          { name: 'c', module: echo },
        ],
      },
    ],
  });
  removeTempDirs();
  return spec;
};

function view(delivered: Record<string, number>): RuntimeView {
  return {
    tick: 7,
    paused: false,
    agents: () =>
      Object.entries(delivered).map(([name, count]) => ({
        name,
        state: 'running',
        mailbox: 0,
        delivered: count,
        restarts: 0,
      })),
    models: () => [],
  };
}

const envelope = (n: number) => ({
  from: 'a',
  to: 'b',
  kind: 'k',
  payload: new TextEncoder().encode(`m${n}`),
});

describe('DashboardModel', () => {
  it('streams log lines and timeline events once each, and all kept ones to a new client', () => {
    const model = new DashboardModel(spec(), 1, 'session-1');
    model.onEvent({ type: 'agent.log', agent: 'a', level: 'info', text: 'one', tick: 1 });
    model.onEvent({ type: 'agent.crashed', agent: 'b', reason: 'trap: unreachable', tick: 2, restarts: 0 });
    model.onEvent({ type: 'agent.state', agent: 'b', state: 'restarting', tick: 2 });
    model.onEvent({
      type: 'supervisor.decided',
      decision: 'retire',
      agents: ['c'],
      reason: 'too many restarts',
      tick: 3,
    });
    model.onEvent({ type: 'gpu.log', level: 'warn', text: 'slow' });
    const first = model.snapshot(view({ a: 0 }), 0);
    expect(first.session).toBe('session-1');
    expect(first.logs.map((line) => `${line.agent}:${line.text}`)).toEqual(['a:one', '@gpu:slow']);
    expect(first.timeline.map((entry) => `${entry.kind}:${entry.agent ?? ''}:${entry.text}`)).toEqual([
      'crash:b:trap: unreachable',
      'restart:b:restarting',
      'escalation::gave up on c: too many restarts',
    ]);
    // Sent once: the next snapshot has nothing new; a client connecting now gets everything kept.
    const second = model.snapshot(view({ a: 0 }), 250);
    expect(second.logs).toEqual([]);
    expect(second.timeline).toEqual([]);
    expect(model.snapshot(view({ a: 0 }), 250, true).logs).toHaveLength(2);
  });

  it('shows a generated token as the text it adds, not as bytes', () => {
    const model = new DashboardModel(spec(), 1);
    const token = encodeGenerateToken({ index: 3, tokenId: 42, text: ' world', request: 'b#1' });
    model.onBatch(4, 'b', [
      { from: '@gpu/llm', to: 'b', kind: GENERATE_TOKEN_KIND, payload: token, tick: 4, seq: 1 },
    ]);
    const [entry] = model.snapshot(view({ b: 1 }), 0).trace;
    expect(entry).toMatchObject({ kind: GENERATE_TOKEN_KIND, text: ' world' });
  });

  it('samples charts: rates, mailbox depths, mean GPU batch and latency per interval', () => {
    const model = new DashboardModel(spec(), 1);
    let answered = 0;
    let runs = 0;
    let latencies = new Map<string, { answers: number; totalMs: number }>();
    const gpuView = (delivered: number, mailboxes: number[]): RuntimeView => ({
      ...view({ a: delivered }),
      agents: () =>
        mailboxes.map((mailbox, i) => ({ name: `x${i}`, state: 'running', mailbox, delivered, restarts: 0 })),
      models: () => [
        {
          name: 'm',
          state: 'ready',
          provider: 'cpu',
          skipped: [],
          answered,
          errors: 0,
          runs,
          largestBatch: 4,
        },
      ],
      latencies: () => latencies,
    });
    model.snapshot(gpuView(0, [0, 0]), 0);
    answered = 12;
    runs = 3;
    latencies = new Map([['m', { answers: 12, totalMs: 60 }]]);
    const [sample] = model.snapshot(gpuView(0, [5, 2]), 1000).samples;
    expect(sample).toMatchObject({ mailboxes: 7, deepest: 5, gpuBatch: 4, gpuLatencyMs: 5 });
    latencies = new Map();
    const [idle] = model.snapshot(gpuView(0, [0, 0]), 2000).samples;
    expect(idle).toMatchObject({ gpuBatch: null, gpuLatencyMs: null });
    expect(model.snapshot(gpuView(0, [0, 0]), 2000, true).samples).toHaveLength(3);
  });

  it('lists the supervision tree in start order with depths', () => {
    const snapshot = new DashboardModel(spec(), 1).snapshot(view({ a: 0, b: 0, c: 0 }), 0);
    expect(snapshot.rows).toEqual([
      { kind: 'supervisor', name: 'test', depth: 0, strategy: 'one_for_one' },
      { kind: 'agent', name: 'a', depth: 1 },
      { kind: 'supervisor', name: 'workers', depth: 1, strategy: 'one_for_all' },
      { kind: 'agent', name: 'b', depth: 2 },
      { kind: 'agent', name: 'c', depth: 2 },
    ]);
  });

  it('samples each agent rate per snapshot and coalesces a burst of deliveries', () => {
    const model = new DashboardModel(spec(), 1);
    model.snapshot(view({ a: 0, b: 0, c: 0 }), 0);
    model.onBatch(
      3,
      'b',
      Array.from({ length: 10_000 }, (_, n) => envelope(n)),
    );
    const next = model.snapshot(view({ a: 0, b: 10_000, c: 0 }), 500);
    expect(next.agents.find((agent) => agent.name === 'b')?.rate).toEqual([0, 20_000]);
    expect(next.rate).toBe(20_000);
    // At most 500 deliveries per snapshot, the newest; the rest are counted, not sent.
    expect(next.trace).toHaveLength(500);
    expect(next.trace.at(-1)).toMatchObject({
      n: 10_000,
      tick: 3,
      from: 'a',
      to: 'b',
      kind: 'k',
      text: 'm9999',
    });
    expect(next.traceDropped).toBe(9_500);
    // A client connecting now gets every kept delivery (2,000), and nothing advances for the others.
    const full = model.snapshot(view({ a: 0, b: 10_000, c: 0 }), 600, true);
    expect(full.trace).toHaveLength(2_000);
    expect(full.agents.find((agent) => agent.name === 'b')?.rate).toEqual([0, 20_000]);
    expect(model.snapshot(view({ a: 0, b: 10_000, c: 0 }), 1000).trace).toEqual([]);
  });

  it('keeps dead letters and the end of the run', () => {
    const model = new DashboardModel(spec(), 2);
    model.onEvent({
      type: 'message.dead',
      agent: 'b',
      id: 'a#1',
      from: 'a',
      kind: 'k',
      reason: 'no',
      tick: 4,
    });
    model.onEvent({
      type: 'run.end',
      ok: false,
      reason: 'stopped',
      ticks: 4,
      delivered: 1,
      trace: '',
      summary: {
        ok: false,
        reason: 'stopped',
        ticks: 4,
        delivered: 1,
        deadLetters: 1,
        rejectedFrames: 0,
        trace: '',
        agents: {},
      },
    });
    const snapshot = model.snapshot(view({ a: 1, b: 0, c: 0 }), 0);
    expect(snapshot.deadLetters).toEqual({
      count: 1,
      recent: [{ id: 'a#1', from: 'a', to: 'b', kind: 'k', reason: 'no', tick: 4 }],
    });
    expect(snapshot.ended).toEqual({ ok: false, reason: 'stopped' });
    expect(snapshot.run).toBe(2);
  });

  it('shows short printable payloads as text, anything else as a size', () => {
    const model = new DashboardModel(spec(), 1);
    model.onBatch(1, 'b', [
      { from: 'a', kind: 'k', payload: new Uint8Array([0xff, 0xfe]) },
      { from: 'a', kind: 'k', payload: new Uint8Array(200).fill(65) },
      { from: 'a', kind: 'k', payload: new TextEncoder().encode('héllo') },
    ]);
    const [binary, long, text] = model.snapshot(view({ a: 0, b: 3, c: 0 }), 0).trace;
    expect(binary?.text).toBeUndefined();
    expect(long).toMatchObject({ bytes: 200 });
    expect(long?.text).toBeUndefined();
    expect(text?.text).toBe('héllo');
  });
});

describe('parseCommand', () => {
  const agents = new Set(['a', 'b']);
  it('accepts the commands the window sends', () => {
    expect(parseCommand({ op: 'pause' }, agents)).toEqual({ ok: true, command: { op: 'pause' } });
    expect(parseCommand({ op: 'kill', agent: 'a' }, agents)).toEqual({
      ok: true,
      command: { op: 'kill', agent: 'a' },
    });
    expect(parseCommand({ op: 'inject', to: 'b', kind: 'add' }, agents)).toEqual({
      ok: true,
      command: { op: 'inject', to: 'b', kind: 'add', text: '' },
    });
  });

  it('names what is wrong with a bad one', () => {
    const error = (value: unknown) => {
      const parsed = parseCommand(value, agents);
      return parsed.ok ? 'accepted' : parsed.error;
    };
    expect(error(null)).toBe('a command is an object with an "op"');
    expect(error({})).toBe('the command has no "op"');
    expect(error({ op: 'explode' })).toMatch(/^unknown op "explode" \(pause, resume/);
    expect(error({ op: 'kill' })).toBe('"kill" needs "agent"');
    expect(error({ op: 'restart', agent: 'zed' })).toBe('no agent named "zed"');
    expect(error({ op: 'inject', to: 'a' })).toBe('"inject" needs a "kind"');
    expect(error({ op: 'inject', to: 'a', kind: 'k', text: 5 })).toBe('"text" must be a string');
  });
});
