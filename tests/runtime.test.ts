// The runtime on real agent host processes: determinism, crashes from inside and outside, intensity.
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../src/supervisor/index.js';
import { agentModule, DELAYED_HOST } from './helpers/paths.js';
import {
  hostPid,
  killAllHosts,
  logsOf,
  removeTempDirs,
  startRun,
  statesOf,
  writeSystem,
} from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

/** A relay pair passing `limit` hops, a sink observing every hop and counting them. */
function relaySystem(limit: number, extra: { maxRestarts?: number } = {}) {
  const relay = agentModule('relay');
  return writeSystem({
    ...extra,
    agents: [
      { name: 'ping', module: relay, init: `peer=pong;start=1;limit=${limit};observer=sink;counter=sink` },
      { name: 'pong', module: relay, init: `peer=ping;limit=${limit};observer=sink;counter=sink` },
      { name: 'sink', module: agentModule('sink') },
    ],
  });
}

function countedBySink(events: readonly RuntimeEvent[]): number[] {
  return [...logsOf(events, 'ping'), ...logsOf(events, 'pong')].flatMap((line) => {
    const match = /sink counted (\d+)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

function crashesOf(events: readonly RuntimeEvent[], agent: string) {
  return events.filter((event) => event.type === 'agent.crashed' && event.agent === agent);
}

describe('deterministic order', () => {
  it('gives the same trace hash on repeated runs, also when hosts are delayed at random', async () => {
    const spec = relaySystem(200);
    const first = await startRun(spec).done;
    const second = await startRun(spec).done;
    const delayed = await startRun(spec, { hostEntry: DELAYED_HOST, hostEnv: { TROUPE_DELAY_MS: '4' } }).done;
    expect(first.ok).toBe(true);
    expect(first.delivered).toBeGreaterThan(400);
    expect(second.trace).toBe(first.trace);
    expect(delayed.trace).toBe(first.trace);
    expect(delayed.ticks).toBe(first.ticks);
  });

  it('starts agents in declared order and stops them one by one in reverse', async () => {
    const run = startRun(relaySystem(10));
    await run.done;
    const spawned = run.events.flatMap((event) => (event.type === 'agent.spawned' ? [event.agent] : []));
    const stopped = run.events.flatMap((event) =>
      event.type === 'agent.state' && (event.state === 'stopping' || event.state === 'stopped')
        ? [`${event.agent} ${event.state}`]
        : [],
    );
    expect(spawned).toEqual(['ping', 'pong', 'sink']);
    expect(stopped).toEqual([
      'sink stopping',
      'sink stopped',
      'pong stopping',
      'pong stopped',
      'ping stopping',
      'ping stopped',
    ]);
  });

  it('gives a different trace for a different system', async () => {
    const a = await startRun(relaySystem(20)).done;
    const b = await startRun(relaySystem(21)).done;
    expect(a.trace).not.toBe(b.trace);
  });
});

describe('crash from outside (kill -9)', () => {
  it('restarts the agent and loses no envelope', async () => {
    const limit = 600;
    const kills: string[] = [];
    const run = startRun(relaySystem(limit), {}, ({ tick, agents }, runtime) => {
      const busy = agents.includes('pong');
      // One kill while pong holds a batch (the batch must come back), one while it has none.
      const due = (kills.length === 0 && tick >= 200 && busy) || (kills.length === 1 && tick >= 400 && !busy);
      const pid = hostPid('pong');
      if (!due || !pid) return;
      // The first kill comes from outside, as `kill -9` would; the second through the API the UI uses.
      if (busy) process.kill(pid, 'SIGKILL');
      else runtime.kill('pong');
      kills.push(busy ? 'mid-batch' : 'between batches');
    });
    const summary = await run.done;
    expect(kills).toEqual(['mid-batch', 'between batches']);
    const crashes = crashesOf(run.events, 'pong');
    expect(crashes.length).toBe(2);
    for (const crash of crashes)
      expect(crash).toMatchObject({ reason: 'agent host process killed by SIGKILL' });
    const states = statesOf(run.events, 'pong');
    // The kills are ~200 ticks apart, more than backoff.maxTicks: each restart is a first one (no backoff).
    expect(states.join(' ')).toContain('running crashed restarting running crashed restarting running');
    expect(summary.ok).toBe(true);
    // Every hop reached the sink exactly once: none lost, none applied twice.
    expect(countedBySink(run.events)).toEqual([limit]);
    expect(summary.agents.pong?.restarts).toBe(2);
  });
});

describe('crash from inside (WASM trap)', () => {
  const trapSystem = (extra: { maxRestarts?: number; retryLimit?: number } = {}) =>
    writeSystem({
      ...extra,
      agents: [
        { name: 'ping', module: agentModule('relay'), init: 'peer=pong;start=1;limit=20;observer=picky' },
        { name: 'pong', module: agentModule('relay'), init: 'peer=ping;limit=20;observer=picky' },
        { name: 'picky', module: agentModule('picky'), init: 'counter=counter;trapOn=13' },
        { name: 'counter', module: agentModule('counter') },
      ],
    });

  it('restarts the agent, retries the message, then dead-letters it with the reason', async () => {
    const run = startRun(trapSystem({ retryLimit: 2 }));
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    const crashes = crashesOf(run.events, 'picky');
    expect(crashes).toHaveLength(3);
    for (const crash of crashes)
      expect(crash).toMatchObject({ reason: expect.stringContaining('refusing to handle 13') });
    const dead = run.events.filter((event) => event.type === 'message.dead');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      agent: 'picky',
      from: 'pong',
      kind: 'hop',
      reason: expect.stringMatching(/crashed "picky" 3 times: trap: unreachable.*refusing to handle 13/),
    });
    expect(statesOf(run.events, 'picky').slice(0, 6)).toEqual([
      'starting',
      'running',
      'crashed',
      'restarting',
      'running',
      'crashed',
    ]);
    expect(summary.agents.picky?.restarts).toBe(3);
  });

  it('is deterministic: the same trace on every run', async () => {
    const spec = trapSystem();
    const first = await startRun(spec).done;
    const second = await startRun(spec, { hostEntry: DELAYED_HOST, hostEnv: { TROUPE_DELAY_MS: '3' } }).done;
    expect(second.trace).toBe(first.trace);
  });

  it('stops the system past the restart intensity, naming the agent and its crash', async () => {
    const run = startRun(trapSystem({ maxRestarts: 1 }));
    const summary = await run.done;
    expect(summary.ok).toBe(false);
    expect(summary.reason).toMatch(
      /^restart intensity exceeded: supervisor "test" needed more than 1 restarts within 60000 ms; last: "picky" trap: unreachable.*refusing to handle 13/,
    );
    expect(summary.agents.picky?.state).toBe('failed');
    const end = run.events.at(-1);
    expect(end?.type).toBe('run.end');
  });
});
