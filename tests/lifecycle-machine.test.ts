// The agent lifecycle machine: the states the CLI and UI show, and what moves between them.

import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { type LifecycleState, lifecycleMachine } from '../src/supervisor/index.js';

function walk(...events: Parameters<ReturnType<typeof start>['send']>[0][]) {
  const actor = start();
  const seen: LifecycleState[] = [actor.getSnapshot().value as LifecycleState];
  for (const event of events) {
    actor.send(event);
    seen.push(actor.getSnapshot().value as LifecycleState);
  }
  return { seen, context: actor.getSnapshot().context };
}

function start() {
  return createActor(lifecycleMachine, { input: { agent: 'a' } }).start();
}

describe('lifecycle', () => {
  it('crash and restart: starting → running → crashed → restarting → running', () => {
    const { seen, context } = walk(
      { type: 'READY' },
      { type: 'CRASHED', reason: 'trap: unreachable' },
      { type: 'RESTART' },
      { type: 'READY' },
    );
    expect(seen).toEqual(['starting', 'running', 'crashed', 'restarting', 'running']);
    expect(context).toMatchObject({ restarts: 1, lastCrash: 'trap: unreachable' });
  });

  it('giving up ends in failed, keeping the reason', () => {
    const { seen, context } = walk(
      { type: 'READY' },
      { type: 'CRASHED', reason: 'x' },
      { type: 'GIVE_UP', reason: 'y' },
    );
    expect(seen.at(-1)).toBe('failed');
    expect(context.lastCrash).toBe('y');
  });

  it('a normal finish stops the agent; a permanent one restarts from there', () => {
    const { seen } = walk({ type: 'READY' }, { type: 'FINISHED' }, { type: 'RESTART' }, { type: 'READY' });
    expect(seen).toEqual(['starting', 'running', 'stopped', 'restarting', 'running']);
  });

  it('stopping: running → stopping → stopped', () => {
    const { seen } = walk({ type: 'READY' }, { type: 'STOP' }, { type: 'STOPPED' });
    expect(seen).toEqual(['starting', 'running', 'stopping', 'stopped']);
  });

  it('ignores events that make no sense in a state', () => {
    const { seen } = walk({ type: 'RESTART' }, { type: 'STOPPED' }, { type: 'FINISHED' });
    expect(seen).toEqual(['starting', 'starting', 'starting', 'starting']);
  });
});
