// Supervision strategies on real agent processes: who restarts with whom, and determinism.
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../src/supervisor/index.js';
import { agentModule, DELAYED_HOST } from './helpers/paths.js';
import { killAllHosts, removeTempDirs, startRun, statesOf, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

const relay = () => agentModule('relay');
/** A relay pair whose hops go to `picky`, which traps on hop 5 every time. */
const relayPair = [
  { name: 'ping', module: relay(), init: 'peer=pong;start=1;limit=12;observer=picky' },
  { name: 'pong', module: relay(), init: 'peer=ping;limit=12;observer=picky' },
];
const picky = { name: 'picky', module: agentModule('picky'), init: 'counter=counter;trapOn=5' };
const counter = { name: 'counter', module: agentModule('counter') };
const echo = { name: 'echo', module: agentModule('echo') };

const restartsIn = (events: readonly RuntimeEvent[], agent: string) =>
  statesOf(events, agent).filter((state) => state === 'restarting').length;

describe('strategies on real processes', () => {
  it('one_for_all in a nested supervisor restarts the siblings, and nothing outside it', async () => {
    const spec = writeSystem({
      retryLimit: 0,
      agents: [
        ...relayPair,
        { supervisor: 'workers', strategy: 'one_for_all', maxRestarts: 5, agents: [picky, counter] },
      ],
    });
    const run = startRun(spec);
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(restartsIn(run.events, 'picky')).toBe(1);
    expect(restartsIn(run.events, 'counter')).toBe(1);
    expect(restartsIn(run.events, 'ping') + restartsIn(run.events, 'pong')).toBe(0);
  });

  it('rest_for_one restarts the crashed child and the ones started after it', async () => {
    const spec = writeSystem({
      retryLimit: 0,
      strategy: 'rest_for_one',
      agents: [...relayPair, echo, picky, counter],
    });
    const run = startRun(spec);
    await run.done;
    expect(restartsIn(run.events, 'picky')).toBe(1);
    expect(restartsIn(run.events, 'counter')).toBe(1);
    expect(restartsIn(run.events, 'echo')).toBe(0);
  });

  it('a nested supervisor past its intensity escalates; the root stops the system', async () => {
    const spec = writeSystem({
      retryLimit: 5,
      maxRestarts: 0,
      agents: [
        ...relayPair,
        { supervisor: 'workers', strategy: 'one_for_one', maxRestarts: 1, agents: [picky] },
      ],
    });
    const summary = await startRun(spec).done;
    expect(summary.ok).toBe(false);
    expect(summary.reason).toMatch(
      /^restart intensity exceeded: supervisor "test" needed more than 0 restarts.*last: supervisor "workers" needed more than 1 restarts.*"picky" trap: unreachable/,
    );
  });
});

describe('determinism with crashes and backoff', () => {
  it('deterministic crashes with jittered backoff give the same trace on every run', async () => {
    const spec = writeSystem({
      retryLimit: 3,
      maxRestarts: 10,
      backoff: { initialTicks: 2, multiplier: 2, jitter: 0.5 },
      agents: [...relayPair, picky, counter],
    });
    const first = await startRun(spec).done;
    const second = await startRun(spec, { hostEntry: DELAYED_HOST, hostEnv: { TROUPE_DELAY_MS: '4' } }).done;
    expect(first.agents.picky?.restarts).toBe(4);
    expect(second.trace).toBe(first.trace);
    expect(second.ticks).toBe(first.ticks);
  });
});
