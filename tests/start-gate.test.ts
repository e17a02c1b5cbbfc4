// Starts under load: at most one host start per core at a time, in order; a start that times out
// fails the system's start with the agent and the reason, and a storm of starts succeeds.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartGate } from '../src/supervisor/core/start-gate.js';
import { isAlive } from './helpers/cli.js';
import { agentModule, FIXTURES } from './helpers/paths.js';
import { killAllHosts, removeTempDirs, startRun, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

describe('start gate', () => {
  it('runs at most `limit` starts at once, the rest in request order as places free up', () => {
    const gate = new StartGate<string>(2);
    const started: string[] = [];
    const start = (item: string) => started.push(item);
    for (const item of ['a', 'b', 'c', 'd']) gate.request(item, start);
    expect(started).toEqual(['a', 'b']);
    gate.request('a', start);
    expect(gate.pending).toBe(4);
    gate.release('b');
    expect(started).toEqual(['a', 'b', 'c']);
    gate.release('d');
    gate.release('a');
    gate.release('c');
    expect(started).toEqual(['a', 'b', 'c']);
    expect(gate.pending).toBe(0);
  });

  it('keeps request order with thousands waiting, and forgets a waiting item released', () => {
    const gate = new StartGate<number>(1);
    const started: number[] = [];
    for (let i = 0; i < 5000; i++) gate.request(i, (item) => started.push(item));
    gate.request(3, () => started.push(-1));
    gate.release(2);
    for (let i = 0; i < 5000; i++) gate.release(i);
    expect(started).toEqual(Array.from({ length: 5000 }, (_, i) => i).filter((i) => i !== 2));
    expect(gate.pending).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new StartGate(0)).toThrow('limit must be a positive integer (got 0)');
  });
});

describe('starting many agents', () => {
  it('never has more host starts in flight than cores, and every agent starts', async () => {
    const agents = Array.from({ length: 16 }, (_, i) => ({ name: `echo-${i}`, module: agentModule('echo') }));
    let starting = 0;
    let most = 0;
    const run = startRun(writeSystem({ agents }), {
      onEvent: (event) => {
        if (event.type === 'agent.spawned') most = Math.max(most, ++starting);
        if (event.type === 'agent.state' && event.state === 'running') starting--;
      },
    });
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(Object.values(summary.agents).every((agent) => agent.state === 'stopped')).toBe(true);
    expect(most).toBeLessThanOrEqual(Math.max(2, availableParallelism()));
  }, 60_000);

  it('starts agents of the shared pool many at a time: nothing is forked for them', async () => {
    const agents = Array.from({ length: 40 }, (_, i) => ({ name: `echo-${i}`, module: agentModule('echo') }));
    let starting = 0;
    let most = 0;
    const run = startRun(writeSystem({ isolation: 'shared', agents }), {
      startConcurrency: 2,
      onEvent: (event) => {
        if (event.type === 'agent.spawned') most = Math.max(most, ++starting);
        if (event.type === 'agent.state' && event.state === 'running') starting--;
      },
    });
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(most).toBeGreaterThan(2);
    expect(most).toBeLessThanOrEqual(2 * 32);
  }, 60_000);

  it('a start that passes its timeout fails the system start, naming the agent', async () => {
    const spec = writeSystem({ agents: [{ name: 'slow', module: agentModule('echo') }] });
    const summary = await startRun(spec, {
      hostEntry: join(FIXTURES, 'hosts', 'mute.mjs'),
      startTimeoutMs: 300,
    }).done;
    expect(summary.ok).toBe(false);
    expect(summary.reason).toBe(
      'start failed: agent "slow" could not start: watchdog: no answer loading the module within 300 ms (start timeout)',
    );
    expect(summary.agents.slow).toMatchObject({ state: 'failed', restarts: 0 });
  }, 30_000);
});

describe('warm spare', () => {
  /** Kills echo's host once the first spare is up, and stops once echo runs again. */
  function killOnceSpareIsUp(isolation?: 'thread') {
    const spec = writeSystem({ isolation, agents: [{ name: 'echo', module: agentModule('echo') }] });
    let killed = false;
    const run = startRun(spec, {
      untilIdle: false,
      onEvent: (event) => {
        if (event.type === 'host.spare' && !killed) {
          killed = true;
          run.runtime.kill('echo');
        }
        if (event.type === 'agent.state' && event.state === 'running' && killed)
          run.runtime.requestStop('done');
      },
    });
    return run;
  }

  it('a restart after a host dies takes the spare started ahead of need; no spare outlives the run', async () => {
    const run = killOnceSpareIsUp();
    const summary = await run.done;
    const spares = run.events.flatMap((event) =>
      event.type === 'host.spare' && event.pid ? [event.pid] : [],
    );
    const spawned = run.events.flatMap((event) =>
      event.type === 'agent.spawned' && event.pid ? [event.pid] : [],
    );
    expect(summary.agents.echo?.restarts).toBe(1);
    expect(spawned).toHaveLength(2);
    expect(spawned[1]).toBe(spares[0]);
    await expect.poll(() => spares.filter((pid) => isAlive(pid))).toEqual([]);
  }, 30_000);

  it('in thread isolation too: the restart takes the thread started ahead of need', async () => {
    const run = killOnceSpareIsUp('thread');
    const summary = await run.done;
    expect(summary.agents.echo?.restarts).toBe(1);
    const spares = run.events.filter((event) => event.type === 'host.spare');
    expect(spares[0]).toMatchObject({ isolation: 'thread', pid: undefined });
    const spawned = run.events.flatMap((event) => (event.type === 'agent.spawned' ? [event] : []));
    expect(spawned.map((event) => event.spare ?? false)).toEqual([false, true]);
  }, 30_000);
});
