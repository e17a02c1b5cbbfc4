// OTP supervision decisions, pure and on a fake clock; grouped by concept as in supervisor_SUITE.
import { describe, expect, it } from 'vitest';
import type { AgentSpec, ChildSpec, RestartType, SupervisorSpec } from '../src/supervisor/index.js';
import {
  backoffTicks,
  type ChildExit,
  decideExit,
  FakeClock,
  GPU_HOST,
  NO_HISTORY,
  type RestartHistory,
  SupervisionTree,
} from '../src/supervisor/index.js';

const BACKOFF = { initialTicks: 1, maxTicks: 64, multiplier: 2, jitter: 0 };

function agent(name: string, restart: RestartType = 'permanent'): AgentSpec {
  return { name, restart } as AgentSpec;
}

function supervisor(
  name: string,
  strategy: SupervisorSpec['strategy'],
  children: ChildSpec[],
  maxRestarts = 3,
): SupervisorSpec {
  return { name, strategy, maxRestarts, periodMs: 1000, backoff: BACKOFF, children };
}

/** Feeds exits to decideExit, keeping the history, with the clock and tick supplied. */
function harness(root: SupervisorSpec, agents: AgentSpec[], options: { gpuHost?: boolean } = {}) {
  const tree = new SupervisionTree(root, agents, options);
  const clock = new FakeClock(0);
  let history: RestartHistory = NO_HISTORY;
  const retired = new Set<string>();
  return {
    clock,
    exit(agent: string, exit: ChildExit['exit'] = 'crash', tick = 10) {
      const result = decideExit(
        tree,
        history,
        { agent, exit, reason: 'boom' },
        {
          now: clock.now(),
          tick,
          seed: 7,
          alive: (name) => !retired.has(name),
        },
      );
      history = result.history;
      for (const decision of result.decisions)
        if (decision.type === 'retire') for (const a of decision.agents) retired.add(a);
      return result.decisions;
    },
  };
}

const abc = () => [agent('a'), agent('b'), agent('c')];
const children = (...names: string[]): ChildSpec[] => names.map((name) => ({ agent: name }));

describe('one_for_one', () => {
  it('permanent_abnormal: restarts only the child, at the next tick', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('a', 'b', 'c')), abc());
    expect(sup.exit('b')).toEqual([{ type: 'restart', agents: ['b'], rejoinTick: 11, supervisor: 'root' }]);
  });

  it('permanent_normal: restarts a permanent child that finished', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('a')), [agent('a')]);
    expect(sup.exit('a', 'normal')).toMatchObject([{ type: 'restart', agents: ['a'] }]);
  });

  it('transient_abnormal: restarts; transient_normal_exit: retires, not failed', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('t')), [agent('t', 'transient')]);
    expect(sup.exit('t', 'crash')).toMatchObject([{ type: 'restart', agents: ['t'] }]);
    expect(sup.exit('t', 'normal')).toEqual([
      { type: 'retire', agents: ['t'], failed: false, reason: 'finished normally (restart: transient)' },
    ]);
  });

  it('temporary_abnormal: never restarted, retired as failed', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('t')), [agent('t', 'temporary')]);
    expect(sup.exit('t')).toEqual([{ type: 'retire', agents: ['t'], failed: true, reason: 'boom' }]);
  });
});

describe('one_for_all', () => {
  it('one_for_all_restart: a crash restarts every child, in start order', () => {
    const sup = harness(supervisor('root', 'one_for_all', children('a', 'b', 'c')), abc());
    expect(sup.exit('b')).toMatchObject([{ type: 'restart', agents: ['a', 'b', 'c'] }]);
  });

  it('one_for_all_temporary_sibling: a temporary sibling is stopped, not restarted', () => {
    const agents = [agent('a'), agent('b'), agent('tmp', 'temporary')];
    const sup = harness(supervisor('root', 'one_for_all', children('a', 'b', 'tmp')), agents);
    expect(sup.exit('a')).toEqual([
      { type: 'retire', agents: ['tmp'], failed: false, reason: 'stopped by one_for_all in "root"' },
      { type: 'restart', agents: ['a', 'b'], rejoinTick: 11, supervisor: 'root' },
    ]);
  });
});

describe('rest_for_one', () => {
  it('rest_for_one_restart: restarts the child and those started after it', () => {
    const sup = harness(supervisor('root', 'rest_for_one', children('a', 'b', 'c')), abc());
    expect(sup.exit('b')).toMatchObject([{ type: 'restart', agents: ['b', 'c'] }]);
    expect(sup.exit('c')).toMatchObject([{ type: 'restart', agents: ['c'] }]);
  });
});

describe('restart intensity', () => {
  it('intensity_period: restarts older than periodMs are forgotten', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('a'), 2), [agent('a')]);
    sup.exit('a');
    sup.clock.advance(600);
    sup.exit('a');
    sup.clock.advance(600);
    // The first restart (at 0) has left the 1000 ms window: this is the 2nd within it, allowed.
    expect(sup.exit('a')).toMatchObject([{ type: 'restart' }]);
  });

  it('root_escalation: past the intensity the root retires everything and stops the system', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('a', 'b'), 1), [agent('a'), agent('b')]);
    sup.exit('a');
    expect(sup.exit('a')).toEqual([
      {
        type: 'retire',
        agents: ['a', 'b'],
        failed: true,
        reason: 'supervisor "root" needed more than 1 restarts within 1000 ms; last: "a" boom',
      },
      {
        type: 'shutdown',
        reason:
          'restart intensity exceeded: supervisor "root" needed more than 1 restarts within 1000 ms; last: "a" boom',
      },
    ]);
  });

  it('one_for_all_escalation: a nested supervisor past its intensity is restarted whole by its parent', () => {
    const inner = supervisor('inner', 'one_for_all', children('b', 'c'), 1);
    const root = supervisor('root', 'one_for_one', [{ agent: 'a' }, { supervisor: inner }], 5);
    const sup = harness(root, abc());
    expect(sup.exit('b')).toMatchObject([{ type: 'restart', agents: ['b', 'c'], supervisor: 'inner' }]);
    // The second crash within the period exceeds inner's intensity: root restarts the inner subtree.
    expect(sup.exit('c')).toMatchObject([{ type: 'restart', agents: ['b', 'c'], supervisor: 'root' }]);
    // Inner starts afresh: one more crash is within its new budget again.
    expect(sup.exit('b')).toMatchObject([{ type: 'restart', supervisor: 'inner' }]);
  });

  it('nested_escalation_to_root: when both levels give up the system stops', () => {
    const inner = supervisor('inner', 'one_for_one', children('b'), 0);
    const root = supervisor('root', 'one_for_one', [{ agent: 'a' }, { supervisor: inner }], 0);
    const sup = harness(root, [agent('a'), agent('b')]);
    const decisions = sup.exit('b');
    expect(decisions.at(-1)).toEqual({
      type: 'shutdown',
      reason:
        'restart intensity exceeded: supervisor "root" needed more than 0 restarts within 1000 ms; last: supervisor "inner" needed more than 0 restarts within 1000 ms; last: "b" boom',
    });
  });
});

describe('intensity decided by the journal', () => {
  it('a replayed verdict is data: it escalates or holds whatever the clock says; a live one is returned', () => {
    const tree = new SupervisionTree(supervisor('root', 'one_for_one', children('a'), 0), [agent('a')]);
    const context = { now: 0, tick: 4, seed: 1, alive: () => true };
    const exit = { agent: 'a', exit: 'crash' as const, reason: 'boom' };
    // maxRestarts 0: the clock says "exceeded"; the recording says it was not.
    const held = decideExit(tree, NO_HISTORY, exit, { ...context, recordedEscalations: [] });
    expect(held.decisions).toMatchObject([{ type: 'restart' }]);
    expect(held.escalated).toEqual([]);
    // maxRestarts 5: the clock says "not exceeded"; the recording says root gave up.
    const roomy = new SupervisionTree(supervisor('root', 'one_for_one', children('a'), 5), [agent('a')]);
    const replayed = decideExit(roomy, NO_HISTORY, exit, {
      ...context,
      recordedEscalations: [{ supervisor: 'root', check: 0 }],
    });
    expect(replayed.decisions.at(-1)).toMatchObject({ type: 'shutdown' });
    expect(replayed.escalated).toEqual([]);
    // Live: the clock decides, and what it decided comes back to be recorded.
    const live = decideExit(tree, NO_HISTORY, exit, context);
    expect(live.decisions.at(-1)).toMatchObject({ type: 'shutdown' });
    expect(live.escalated).toEqual([{ supervisor: 'root', check: 0 }]);
  });

  it("a recorded verdict names which of the tick's restart checks gave up", () => {
    const tree = new SupervisionTree(supervisor('root', 'one_for_one', children('a', 'b'), 5), [
      agent('a'),
      agent('b'),
    ]);
    const context = { now: 0, tick: 4, seed: 1, alive: () => true };
    const crash = (name: string) => ({ agent: name, exit: 'crash' as const, reason: 'boom' });
    // Two exits decided at tick 4; the recording says the second check gave up, not the first.
    const recordedEscalations = [{ supervisor: 'root', check: 1 }];
    const first = decideExit(tree, NO_HISTORY, crash('a'), { ...context, recordedEscalations });
    expect(first.decisions).toMatchObject([{ type: 'restart', agents: ['a'] }]);
    const second = decideExit(tree, first.history, crash('b'), { ...context, recordedEscalations });
    expect(second.decisions.at(-1)).toMatchObject({ type: 'shutdown' });
    // At the next tick the checks count from the first again.
    const later = decideExit(tree, second.history, crash('a'), {
      ...context,
      tick: 5,
      recordedEscalations: [{ supervisor: 'root', check: 0 }],
    });
    expect(later.decisions.at(-1)).toMatchObject({ type: 'shutdown' });
  });
});

describe('backoff', () => {
  it('grows exponentially with the restarts in the period, up to maxTicks', () => {
    const backoff = { initialTicks: 1, maxTicks: 10, multiplier: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffTicks(backoff, n, 1))).toEqual([1, 2, 4, 8, 10, 10]);
  });

  it('draws jitter from the seed: the same seed gives the same delays, another seed others', () => {
    const backoff = { initialTicks: 100, maxTicks: 1000, multiplier: 1, jitter: 0.5 };
    const delays = (seed: number) => [1, 2, 3, 4, 5].map((n) => backoffTicks(backoff, n, seed));
    expect(delays(3)).toEqual(delays(3));
    expect(delays(3)).not.toEqual(delays(4));
    for (const delay of delays(3)) expect(delay).toBeGreaterThanOrEqual(100);
    for (const delay of delays(3)) expect(delay).toBeLessThanOrEqual(150);
  });

  it('the rejoin tick follows the backoff: 1, then 2, then 4 ticks after the crash', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('a'), 5), [agent('a')]);
    expect(sup.exit('a', 'crash', 10)).toMatchObject([{ rejoinTick: 11 }]);
    expect(sup.exit('a', 'crash', 11)).toMatchObject([{ rejoinTick: 13 }]);
    expect(sup.exit('a', 'crash', 13)).toMatchObject([{ rejoinTick: 17 }]);
  });

  it('counts the streak in ticks, not wall time: a child that ran maxTicks since rejoining starts over', () => {
    const sup = harness(supervisor('root', 'one_for_one', children('a'), 50), [agent('a')]);
    sup.exit('a', 'crash', 10);
    // However long the wall clock says passed, a crash 3 ticks after rejoining continues the streak.
    sup.clock.advance(999);
    expect(sup.exit('a', 'crash', 14)).toMatchObject([{ rejoinTick: 16 }]);
    // 64 ticks (maxTicks) after its last rejoin the streak is over: the delay is back to 1.
    expect(sup.exit('a', 'crash', 16 + 64)).toMatchObject([{ rejoinTick: 16 + 64 + 1 }]);
  });
});

describe('the GPU host, a permanent child of the root', () => {
  const tree = (strategy: SupervisorSpec['strategy'], maxRestarts = 3) =>
    harness(supervisor('root', strategy, children('a', 'b'), maxRestarts), [agent('a'), agent('b')], {
      gpuHost: true,
    });

  it('is the first child (started first, stopped last)', () => {
    const root = new SupervisionTree(supervisor('root', 'one_for_one', children('a')), [agent('a')], {
      gpuHost: true,
    }).root;
    expect(root.children).toEqual([{ agent: GPU_HOST }, { agent: 'a' }]);
  });

  it('one_for_one: its death restarts it alone; an agent crash leaves it be', () => {
    const sup = tree('one_for_one');
    expect(sup.exit(GPU_HOST)).toMatchObject([{ type: 'restart', agents: [GPU_HOST] }]);
    expect(sup.exit('a')).toMatchObject([{ type: 'restart', agents: ['a'] }]);
  });

  it('one_for_all and rest_for_one: its death restarts every agent started after it', () => {
    expect(tree('one_for_all').exit(GPU_HOST)).toMatchObject([
      { type: 'restart', agents: [GPU_HOST, 'a', 'b'] },
    ]);
    expect(tree('rest_for_one').exit(GPU_HOST)).toMatchObject([
      { type: 'restart', agents: [GPU_HOST, 'a', 'b'] },
    ]);
    // An agent's crash under rest_for_one does not reach the GPU host, started before it.
    expect(tree('rest_for_one').exit('a')).toMatchObject([{ type: 'restart', agents: ['a', 'b'] }]);
  });

  it("counts toward the root's intensity: past it, the system stops naming the GPU host", () => {
    const sup = tree('one_for_one', 2);
    sup.exit(GPU_HOST);
    sup.exit(GPU_HOST);
    const decisions = sup.exit(GPU_HOST);
    expect(decisions.at(-1)).toMatchObject({ type: 'shutdown' });
    expect((decisions.at(-1) as { reason: string }).reason).toContain('last: "@gpu" boom');
    expect(decisions[0]).toMatchObject({ type: 'retire', agents: [GPU_HOST, 'a', 'b'], failed: true });
  });
});
