// The swarm example: 1,000 agents in shared isolation adding up a ring's values all at once, every
// token checked by its owner; the run ends by itself with a short summary.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

afterAll(() => killAllCli());

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
