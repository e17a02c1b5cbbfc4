// A recording as a source of inputs: what the core is given each time it asks (issue 27).
import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../src/protocol/index.js';
import { ReplaySource } from '../src/supervisor/index.js';

const h = (byte: number) => new Uint8Array(8).fill(byte);
const tick = (n: number): JournalRecord => ({ tick: { tick: n, agents: ['a'], hashes: [h(n)] } });
const kill = (n: number, agent: string): JournalRecord => ({ kill: { tick: n, agent } });
const inject = (n: number): JournalRecord => ({
  inject: { tick: n, from: '@external', to: 'a', kind: 'k', payload: h(0) },
});

// Ticks 1 to 5, with a skip from 3 to 5 (a timer): injections before their tick, kills after.
const recording: JournalRecord[] = [
  { header: { format: 1, system: 's' } },
  inject(1),
  tick(1),
  kill(1, 'a'),
  tick(2),
  inject(3),
  tick(3),
  kill(3, 'b'),
  tick(5),
  kill(5, 'a'),
];

describe('replay source', () => {
  it('gives a recording up to the first tick past the one asked for, then the rest with its end', () => {
    const source = new ReplaySource(recording);
    expect(source.lastTick).toBe(5);
    // Planning tick 1 needs everything recorded before tick 2: tick 1's kill is in.
    expect(source.want(1)).toEqual({ records: recording.slice(0, 5), whole: false, recordedTo: 5 });
    // Asked again for a tick it has given past: nothing new, and nothing is given twice.
    expect(source.want(1)).toBeUndefined();
    expect(source.want(2)).toEqual({ records: recording.slice(5, 7), whole: false, recordedTo: 5 });
    // Past tick 3 the next tick recorded is 5 (the run skipped 4).
    expect(source.want(3)).toEqual({ records: recording.slice(7, 9), whole: false, recordedTo: 5 });
    // Nothing recorded past tick 5: the rest, and the recording is whole (the run may go on live).
    expect(source.want(5)).toEqual({ records: recording.slice(9), whole: true, recordedTo: 5 });
  });

  it('gives an empty recording as whole at once', () => {
    expect(new ReplaySource([]).want(1)).toEqual({ records: [], whole: true, recordedTo: 0 });
  });

  it('holds a question about a recording being followed until the recording has gone past it', () => {
    const source = new ReplaySource(recording.slice(0, 4), { following: true });
    // What it has so far, and the question is kept: tick 2's record has not come.
    expect(source.want(1)).toEqual({ records: recording.slice(0, 4), whole: false, recordedTo: 1 });
    expect(source.want(1)).toBeUndefined();
    // More comes: the question is answered with what now goes past tick 1.
    expect(source.extend(recording.slice(4, 6))).toEqual({
      records: recording.slice(4, 5),
      whole: false,
      recordedTo: 2,
    });
    // No question waits: what comes is kept until asked for.
    expect(source.extend(recording.slice(6, 8))).toBeUndefined();
    expect(source.lastTick).toBe(3);
    expect(source.want(3)).toEqual({ records: recording.slice(5, 8), whole: false, recordedTo: 3 });
    // Its coordinator is gone: the rest, and the run goes on live after it.
    expect(source.complete()).toEqual({ records: [], whole: true, recordedTo: 3 });
  });
});
