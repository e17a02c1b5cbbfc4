// The replay plan alone: recorded inputs and kills by tick, and the checks that name what differs.
import { describe, expect, it } from 'vitest';
import { ReplayPlan } from '../src/supervisor/index.js';

const h = (byte: number) => new Uint8Array(8).fill(byte);

const plan = new ReplayPlan([
  { header: { format: 1, system: 's' } },
  { inject: { tick: 2, from: '@external', to: 'a', kind: 'k', payload: h(9) } },
  { tick: { tick: 2, agents: ['a', 'b'], hashes: [h(1), h(2)] } },
  { kill: { tick: 2, agent: 'b', inFlight: true } },
  { tick: { tick: 3, agents: ['a'], hashes: [h(3)] } },
  { kill: { tick: 3, agent: 'c', bystander: true } },
  { kill: { tick: 3, agent: 'a', reason: 'restarted by hand' } },
  { kill: { tick: 3, agent: 'd', duringTick: true } },
  { kill: { tick: 3, agent: 'e', release: 1 } },
  { escalation: { tick: 3, supervisor: 'root', check: 1 } },
  { inject: { tick: 4, from: '@external', to: 'a', kind: 'late', payload: h(1), release: 2 } },
  { checkpoint: { tick: 3, agents: ['a'], hashes: [h(7)] } },
]);

describe('replay plan', () => {
  it('knows the last tick, the inputs and the kills by tick', () => {
    expect(plan.lastTick).toBe(3);
    expect(plan.injectsAt(2)).toEqual([
      { from: '@external', output: expect.objectContaining({ to: 'a', kind: 'k' }), release: 0 },
    ]);
    // An input that came after the boundary had released waiting mail twice with no tick to start.
    expect(plan.injectsAt(4)).toEqual([
      { from: '@external', output: expect.objectContaining({ to: 'a', kind: 'late' }), release: 2 },
    ]);
    expect(plan.injectsAt(3)).toEqual([]);
    const kill = {
      inFlight: false,
      culprit: false,
      bystander: false,
      reason: undefined,
      duringTick: false,
      loading: undefined,
    };
    expect(plan.killsAt(2)).toEqual([{ ...kill, agent: 'b', inFlight: true, release: 0 }]);
    // A host that ended for another agent's fault: the agent is started again, charged nothing.
    // One the operator ended (a restart by hand) keeps the reason it was ended for; one that
    // died while a tick ran, holding no batch of it, is marked so; one after a release says so.
    expect(plan.killsAt(3)).toEqual([
      { ...kill, agent: 'c', bystander: true, release: 0 },
      { ...kill, agent: 'a', reason: 'restarted by hand', release: 0 },
      { ...kill, agent: 'd', duringTick: true, release: 0 },
      { ...kill, agent: 'e', release: 1 },
    ]);
    expect(plan.escalationsAt(3)).toEqual([{ supervisor: 'root', check: 1 }]);
  });

  it('accepts a tick that matches and names the agent when one does not', () => {
    expect(
      plan.check(
        2,
        new Map([
          ['a', h(1)],
          ['b', h(2)],
        ]),
      ),
    ).toBeUndefined();
    expect(
      plan.check(
        2,
        new Map([
          ['a', h(1)],
          ['b', h(5)],
        ]),
      ),
    ).toBe('agent "b" received different envelopes (recorded 0202020202020202, replayed 0505050505050505)');
    expect(plan.check(2, new Map([['a', h(1)]]))).toBe(
      'agent "b" received a batch in the recording but not in the replay',
    );
    expect(
      plan.check(
        3,
        new Map([
          ['a', h(3)],
          ['c', h(3)],
        ]),
      ),
    ).toBe('agent "c" received a batch in the replay but not in the recording');
  });

  it('checks agents state at recorded checkpoints only', () => {
    expect(plan.checkState(3, new Map([['a', h(7)]]))).toBeUndefined();
    expect(plan.checkState(3, new Map([['a', h(8)]]))).toBe(
      'the state of agent "a" differs after the tick (recorded 0707070707070707, replayed 0808080808080808)',
    );
    expect(plan.checkState(2, new Map())).toBeUndefined();
  });
});
