// The dead letters a run keeps are bounded in count and in payload bytes; all are counted.
import { describe, expect, it } from 'vitest';
import { DeadLetterLog } from '../src/supervisor/core/dead-letter-log.js';
import type { DeadLetter } from '../src/supervisor/core/scheduler.js';
import { collectGarbage } from './helpers/collect-garbage.js';

const letter = (seq: number, bytes: number): DeadLetter => ({
  tick: 1,
  reason: 'crashed it',
  envelope: { from: '@external', to: 'a', kind: 'k', payload: new Uint8Array(bytes), seq, tick: 1 },
});

describe('dead letter log', () => {
  it('keeps the newest letters within the count limit', () => {
    const log = new DeadLetterLog({ count: 3, bytes: 1 << 20 });
    for (let seq = 1; seq <= 5; seq++) log.add(letter(seq, 10));
    expect(log.list().map((l) => l.envelope.seq)).toEqual([3, 4, 5]);
    expect(log).toMatchObject({ count: 5, dropped: 2, bytes: 30 });
  });

  it('forgets the oldest payloads past the byte limit: 300 injections of 1 MiB keep at most 64 MiB', () => {
    const log = new DeadLetterLog({ count: 10_000, bytes: 64 << 20 });
    for (let seq = 1; seq <= 300; seq++) log.add(letter(seq, 1 << 20));
    expect(log.bytes).toBeLessThanOrEqual(64 << 20);
    expect(log.list()).toHaveLength(64);
    expect(log.list()[0]?.envelope.seq).toBe(237);
    expect(log).toMatchObject({ count: 300, dropped: 236 });
  });

  it('a letter larger than the whole byte limit is counted, not kept; taking one frees its bytes', () => {
    const log = new DeadLetterLog({ count: 10, bytes: 100 });
    log.add(letter(1, 101));
    log.add(letter(2, 60));
    expect(log).toMatchObject({ count: 2, dropped: 1, bytes: 60 });
    expect(log.take('@external#2')?.envelope.seq).toBe(2);
    expect(log.bytes).toBe(0);
    expect(log.take('@external#2')).toBeUndefined();
  });

  it('counts what it keeps: a letter whose payload is a view into a large frame does not keep the frame', async () => {
    const log = new DeadLetterLog({ count: 10, bytes: 100 });
    const frame = ((): WeakRef<ArrayBuffer> => {
      const bytes = new ArrayBuffer(1 << 20);
      const payload = new Uint8Array(bytes, 4096, 10).fill(3);
      log.add({
        tick: 1,
        reason: 'r',
        envelope: { from: 'a', to: 'b', kind: 'k', payload, seq: 1, tick: 1 },
      });
      return new WeakRef(bytes);
    })();
    await collectGarbage();
    expect(frame.deref()).toBeUndefined();
    expect(log.bytes).toBe(10);
    expect(log.take('a#1')?.envelope.payload).toEqual(new Uint8Array(10).fill(3));
  });
});
