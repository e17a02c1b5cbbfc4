// The swarm example: 1,000 agents in shared isolation adding up a ring's values all at once, every
// token checked by its owner; the run ends by itself with a short summary.
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { loadSystem } from '../src/supervisor/index.js';
import { killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';
import { killAllHosts, logsOf, startRun } from './helpers/system.js';

afterAll(() => killAllCli());
afterEach(() => killAllHosts());

it('a ring of 1,000 shared agents computes and checks its total, and ends by itself', async () => {
  const { code, stdout } = await troupe([
    'run',
    join(ROOT, 'examples/swarm/swarm.system.yaml'),
    '--until-idle',
    '--json',
  ]).exit;
  const events = parseJsonLines(stdout);
  const end = events.at(-1) as {
    type: string;
    ok: boolean;
    ticks: number;
    delivered: number;
    agents: Record<string, { state: string }>;
  };
  expect(code).toBe(0);
  expect(end).toMatchObject({ type: 'run.end', ok: true, ticks: 1000, delivered: 1_000_000 });
  const states = Object.values(end.agents).map((agent) => agent.state);
  expect(states).toHaveLength(1000);
  expect(new Set(states)).toEqual(new Set(['stopped']));
  const logs = events.filter((event) => event.type === 'agent.log').map((event) => event.text);
  expect(logs).toEqual(['ring-sum: m-0000 got the total 500500 from 1000 members']);
}, 180_000);

it('ten members killed mid-run restart alone: the pool threads and the other 990 go on, and the total is right', async () => {
  // Issue 25: a kill in shared isolation ended the member's whole pool thread, and about 500
  // agents crashed with it, past the restart intensity, and the system stopped.
  const spec = loadSystem(join(ROOT, 'examples/swarm/swarm.system.yaml'));
  const victims = Array.from({ length: 10 }, (_, i) => `m-0${100 + i * 37}`);
  let killed = false;
  const run = startRun(spec, {}, ({ tick }, runtime) => {
    if (killed || tick < 100) return;
    killed = true;
    for (const victim of victims) runtime.kill(victim);
  });
  const summary = await run.done;
  expect(killed).toBe(true);
  expect(summary.ok, summary.reason).toBe(true);
  const restarted = Object.entries(summary.agents).filter(([, agent]) => agent.restarts > 0);
  expect(restarted.map(([name]) => name).sort()).toEqual([...victims].sort());
  for (const [, agent] of restarted) expect(agent.restarts).toBe(1);
  const crashes = run.events.filter((event) => event.type === 'agent.crashed');
  expect(crashes).toHaveLength(10);
  for (const crash of crashes)
    expect(crash).toMatchObject({ reason: 'agent host instance killed on its shared thread' });
  expect(logsOf(run.events, 'm-0000')).toContain('ring-sum: m-0000 got the total 500500 from 1000 members');
}, 180_000);
