// Answers to a load that come after the agent's fate was decided elsewhere (issue 27): a host
// killed before it answered, recorded and replayed, and an agent stopped while it loaded. The core
// is driven by hand, so each answer comes exactly where it would do harm.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExitInfo } from '../src/launch/index.js';
import { decodeFrame, encodeFrame, type JournalRecord } from '../src/protocol/index.js';
import {
  type CoreInput,
  type Effect,
  type HostRef,
  RuntimeCore,
  type RuntimeEvent,
} from '../src/supervisor/core/index.js';
import { MemorySnapshotStore } from '../src/supervisor/index.js';
import { type ActorDecl, removeTempDirs, type SystemDecl, writeSystem } from './helpers/system.js';

const MODULE = join(import.meta.dirname, 'fixtures', 'malformed.wasm');
const KILLED: ExitInfo = { code: null, signal: 'SIGKILL', stderrTail: '', killed: false };

afterEach(removeTempDirs);

/** A core for two agents (nothing is loaded: the hosts are this test), and what it did. */
function core(
  options: { replay?: boolean; journaled?: boolean },
  system: Partial<SystemDecl> = {},
  second: Partial<ActorDecl> = {},
) {
  const agents = [
    { name: 'a0', module: MODULE },
    { name: 'a1', module: MODULE, ...second },
  ];
  const spec = writeSystem({ ...system, agents });
  const runtime = new RuntimeCore(spec, {
    backend: 'test',
    gpu: false,
    startConcurrency: 2,
    startTimeoutMs: 60_000,
    shutdownMs: 1_000,
    snapshots: new MemorySnapshotStore(),
    ...options,
  });
  const effects: Effect[] = [];
  const events: RuntimeEvent[] = [];
  const handle = (input: CoreInput) => {
    for (const effect of runtime.handle(input, 0)) {
      effects.push(effect);
      if (effect.type === 'emit') events.push(effect.event);
    }
  };
  /** The host the core started for `agent` last, and the generation it was told to load. */
  const host = (agent: string): { ref: HostRef; generation: number } => {
    const spawn = effects.findLast((effect) => effect.type === 'spawn' && effect.agent === agent);
    if (spawn?.type !== 'spawn') throw new Error(`no host was started for ${agent}`);
    const commands = effects.flatMap((effect) => {
      if (effect.type !== 'send' || effect.host !== spawn.host) return [];
      const decoded = decodeFrame(effect.bytes);
      return decoded.ok ? decoded.frame.commands : [];
    });
    const generation = commands.findLast((command) => command.load)?.load?.generation ?? 0;
    return { ref: spawn.host, generation };
  };
  const begin = () => {
    handle({ type: 'start' });
    for (const agent of ['a0', 'a1'])
      handle({ type: 'prepared', agent, result: { ok: true, path: `/test/${agent}` } });
  };
  const loadFailed = (agent: string) => {
    const { ref, generation } = host(agent);
    const event = { agent, loadFailed: { generation, reason: 'init failed' } };
    handle({ type: 'frame', host: ref, bytes: encodeFrame({ events: [event] }) });
  };
  const killed = (ref: HostRef) => effects.some((effect) => effect.type === 'kill' && effect.host === ref);
  return { handle, effects, events, host, begin, loadFailed, killed };
}

describe('a host killed before it answered its load', () => {
  it('is journaled as loading', { timeout: 10_000 }, () => {
    const run = core({ journaled: true });
    run.begin();
    run.handle({ type: 'exit', host: run.host('a1').ref, info: KILLED });
    const kills = run.effects.flatMap((effect) =>
      effect.type === 'record' && effect.record.kill ? [effect.record.kill] : [],
    );
    expect(kills).toEqual([expect.objectContaining({ tick: 0, agent: 'a1', loading: true, generation: 0 })]);
  });

  it('dies in the replay before an answer it gives first is taken', { timeout: 10_000 }, () => {
    // Recorded: both hosts killed before tick 1, before either answered its load. a1's load fails
    // (its init fails every time); the recording never saw that, as its host died first.
    const records: JournalRecord[] = [
      { kill: { tick: 0, agent: 'a0', loading: true, generation: 0 } },
      { kill: { tick: 0, agent: 'a1', loading: true, generation: 0 } },
    ];
    const run = core({ replay: true });
    run.handle({ type: 'start' });
    expect(run.effects).toContainEqual({ type: 'recording.wanted', tick: 1 });
    run.handle({ type: 'recording', records, whole: true, recordedTo: 0 });
    for (const agent of ['a0', 'a1'])
      run.handle({ type: 'prepared', agent, result: { ok: true, path: `/test/${agent}` } });
    const a0 = run.host('a0').ref;
    const a1 = run.host('a1').ref;
    // The replay kills one host at a time: a0 first, and a1 once a0's exit is seen.
    expect(run.killed(a0)).toBe(true);
    expect(run.killed(a1)).toBe(false);
    // Meanwhile a1 answers: its load failed. Taken, it would stop the run ("could not start").
    run.loadFailed('a1');
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
    run.handle({ type: 'exit', host: a0, info: KILLED });
    expect(run.killed(a1)).toBe(true);
    run.handle({ type: 'exit', host: a1, info: KILLED });
    // Both restarted, as recorded, and the run goes on.
    expect(run.host('a0').ref).not.toBe(a0);
    expect(run.host('a1').ref).not.toBe(a1);
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
  });
});

describe('an agent stopped while it loaded', () => {
  it('does not stop the run when its load then fails', { timeout: 10_000 }, () => {
    // a1 is temporary under rest_for_one: a0's death retires it, with its load still running.
    const run = core({}, { strategy: 'rest_for_one' }, { restart: 'temporary' });
    run.begin();
    const a1 = run.host('a1').ref;
    run.handle({ type: 'exit', host: run.host('a0').ref, info: KILLED });
    const retired = run.events.find((event) => event.type === 'supervisor.decided');
    expect(retired).toMatchObject({ decision: 'retire', agents: ['a1'] });
    // Its load fails now. It has no start left to fail: the run goes on, and a1 stops.
    run.loadFailed('a1');
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
    run.handle({ type: 'exit', host: a1, info: { code: 0, signal: null, stderrTail: '', killed: false } });
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
    expect(run.events).toContainEqual(
      expect.objectContaining({ type: 'agent.state', agent: 'a1', state: 'stopped' }),
    );
  });
});

describe('a first load that fails while a replay kills hosts as recorded', () => {
  it('is taken once the kills are done, if the agent is still joining', { timeout: 10_000 }, () => {
    // Recorded: a0 killed before tick 1, and its death retired a1 (temporary, rest_for_one)
    // before a1's load failed: that failure was never taken.
    const records: JournalRecord[] = [{ kill: { tick: 0, agent: 'a0', loading: true, generation: 0 } }];
    const run = core({ replay: true }, { strategy: 'rest_for_one' }, { restart: 'temporary' });
    run.handle({ type: 'start' });
    run.handle({ type: 'recording', records, whole: true, recordedTo: 0 });
    for (const agent of ['a0', 'a1'])
      run.handle({ type: 'prepared', agent, result: { ok: true, path: `/test/${agent}` } });
    const a0 = run.host('a0').ref;
    expect(run.killed(a0)).toBe(true);
    // a1's load fails before a0's exit comes: taken now, it would stop the run.
    run.loadFailed('a1');
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
    run.handle({ type: 'exit', host: a0, info: KILLED });
    expect(run.events.find((event) => event.type === 'supervisor.decided')).toMatchObject({
      decision: 'retire',
      agents: ['a1'],
    });
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
  });

  it('stops the run once they are done when the agent is still joining', { timeout: 10_000 }, () => {
    // Recorded: a0 killed before tick 1 (one_for_one: a1 is not touched), then a1's load failed.
    const records: JournalRecord[] = [{ kill: { tick: 0, agent: 'a0', loading: true, generation: 0 } }];
    const run = core({ replay: true });
    run.handle({ type: 'start' });
    run.handle({ type: 'recording', records, whole: true, recordedTo: 0 });
    for (const agent of ['a0', 'a1'])
      run.handle({ type: 'prepared', agent, result: { ok: true, path: `/test/${agent}` } });
    run.loadFailed('a1');
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([]);
    run.handle({ type: 'exit', host: run.host('a0').ref, info: KILLED });
    expect(run.events.filter((event) => event.type === 'system.stopping')).toEqual([
      { type: 'system.stopping', reason: 'start failed: agent "a1" could not start: init failed' },
    ]);
  });
});
