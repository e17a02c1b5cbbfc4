// OTP restart decisions, on a fake clock: no sleeping, no wall time.
import { describe, expect, it } from 'vitest';
import { addRestart, FakeClock, shouldRestart } from '../src/supervisor/index.js';

describe('restart types', () => {
  it.each([
    ['permanent', 'crash', true],
    ['permanent', 'normal', true],
    ['transient', 'crash', true],
    ['transient', 'normal', false],
    ['temporary', 'crash', false],
    ['temporary', 'normal', false],
  ] as const)('%s child after a %s exit: restart %s', (restart, exit, expected) => {
    expect(shouldRestart(restart, exit)).toBe(expected);
  });
});

describe('restart intensity', () => {
  const intensity = { maxRestarts: 3, periodMs: 1000 };

  it('allows maxRestarts within the period and refuses one more', () => {
    const clock = new FakeClock(5000);
    let history: readonly number[] = [];
    for (let i = 0; i < 3; i++) {
      const check = addRestart(history, clock.now(), intensity);
      expect(check.exceeded).toBe(false);
      history = check.history;
      clock.advance(100);
    }
    expect(addRestart(history, clock.now(), intensity).exceeded).toBe(true);
  });

  it('forgets restarts older than the period', () => {
    const clock = new FakeClock(0);
    let history: readonly number[] = [];
    for (let i = 0; i < 3; i++) {
      history = addRestart(history, clock.now(), intensity).history;
      clock.advance(400);
    }
    // Now at 1200: the restart at 0 has left the window, the ones at 400 and 800 remain.
    const check = addRestart(history, clock.now(), intensity);
    expect(check.exceeded).toBe(false);
    expect(check.history).toEqual([400, 800, 1200]);
  });

  it('with maxRestarts 0 refuses the first restart', () => {
    expect(addRestart([], 0, { maxRestarts: 0, periodMs: 1000 }).exceeded).toBe(true);
  });

  it('does not change the history it was given', () => {
    const history = Object.freeze([10, 20]);
    addRestart(history, 30, intensity);
    expect(history).toEqual([10, 20]);
  });
});

describe('fake clock', () => {
  it('fires timers in due order while advancing, and not cancelled ones', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    const cancel = clock.setTimeout(() => fired.push('never'), 15);
    cancel();
    clock.advance(15);
    expect(fired).toEqual(['a']);
    clock.advance(5);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(20);
  });
});
