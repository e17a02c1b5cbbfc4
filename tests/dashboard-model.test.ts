// The dashboard's pure parts: the view model (tree rows, rates, coalesced trace, dead letters)
// and the command checks.
import { describe, expect, it } from 'vitest';
import { DashboardModel, parseCommand, type RuntimeView } from '../src/dashboard/index.js';
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
