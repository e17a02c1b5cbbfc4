// The shared-memory ring between the supervisor and host threads: frames come out as they went
// in, in order, across wrap-around (of the buffer and of the u32 indices), when full and when
// empty; real producer and consumer threads agree on every byte; a seeded fuzz against a plain
// queue finds no difference.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedRing } from '../src/launch/shared-ring.js';
import { FIXTURES } from './helpers/paths.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
});

describe('shared ring', () => {
  it('is empty at first, and gives back frames in order', () => {
    const ring = SharedRing.create(64);
    expect(ring.read()).toBeUndefined();
    expect(ring.tryWrite(bytes(1, 2, 3))).toBe(true);
    expect(ring.tryWrite(bytes())).toBe(true);
    expect(ring.tryWrite(bytes(9))).toBe(true);
    expect(ring.read()).toEqual(bytes(1, 2, 3));
    expect(ring.read()).toEqual(bytes());
    expect(ring.read()).toEqual(bytes(9));
    expect(ring.read()).toBeUndefined();
  });

  it('refuses a write when full, and takes it once a read made room', () => {
    const ring = SharedRing.create(64);
    const frame = new Uint8Array(24); // 8 + 24 = 32 bytes: two fill the ring
    expect(ring.tryWrite(frame)).toBe(true);
    expect(ring.tryWrite(frame)).toBe(true);
    expect(ring.tryWrite(bytes(1))).toBe(false);
    expect(ring.used).toBe(64);
    ring.read();
    expect(ring.tryWrite(bytes(1))).toBe(true);
  });

  it('carries frames across the end of the buffer, split in two', () => {
    const ring = SharedRing.create(64);
    for (let round = 0; round < 50; round++) {
      const frame = Uint8Array.from({ length: 21 + (round % 17) }, (_, i) => (round * 31 + i) & 255);
      expect(ring.tryWrite(frame)).toBe(true);
      expect(ring.read()).toEqual(frame);
    }
  });

  it('keeps working when its u32 indices wrap around', () => {
    const ring = SharedRing.create(64);
    const header = new Int32Array(ring.buffer, 0, 16);
    header[0] = 0xfffffff0 | 0; // head
    header[1] = 0xfffffff0 | 0; // tail
    for (let i = 0; i < 20; i++) {
      const frame = Uint8Array.from({ length: 10 + i }, (_, k) => (i + k) & 255);
      expect(ring.tryWrite(frame)).toBe(true);
      expect(ring.read()).toEqual(frame);
    }
    expect(ring.used).toBe(0);
  });

  it('refuses frames larger than it can ever hold, and capacities that are not powers of two', () => {
    const ring = SharedRing.create(64);
    expect(() => ring.tryWrite(new Uint8Array(57))).toThrow('a frame of 57 bytes does not fit a ring of 64');
    expect(ring.tryWrite(new Uint8Array(56))).toBe(true);
    expect(() => SharedRing.create(100)).toThrow('power of two');
  });

  it('a waiting reader times out on an empty ring, and wakes when the ring is closed', async () => {
    const ring = SharedRing.create(64);
    expect(ring.waitForData(1)).toBe('timed-out');
    const waiting = ring.dataAvailable();
    ring.close();
    expect(await waiting).toBe('closed');
    expect(ring.waitForData()).toBe('closed');
    expect(ring.tryWrite(bytes(1))).toBe(false);
  });

  it('moves 50,000 frames between real producer and consumer threads, every byte as sent', async () => {
    const ring = SharedRing.create(1024);
    const count = 50_000;
    const peer = (role: string) => {
      const worker = new Worker(join(FIXTURES, 'threads', 'ring-peer.mjs'), {
        workerData: { role, buffer: ring.buffer, count, seed: 3 },
      });
      workers.push(worker);
      return new Promise<{ done: number; errors?: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    };
    const [produced, consumed] = await Promise.all([peer('produce'), peer('consume')]);
    expect(produced.done).toBe(count);
    expect(consumed).toEqual({ done: count, errors: 0 });
    expect(ring.used).toBe(0);
  }, 60_000);

  it('fuzz: any interleaving of writes and reads matches a plain queue', () => {
    const seed = testSeed('shared-ring fuzz');
    const random = seededRandom(seed);
    const ring = SharedRing.create(256);
    const model: Uint8Array[] = [];
    let free = 256;
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.55) {
        const frame = Uint8Array.from({ length: Math.floor(random() * 120) }, () =>
          Math.floor(random() * 256),
        );
        const size = 8 + ((frame.length + 7) & ~7);
        const written = ring.tryWrite(frame);
        expect(written, `seed ${seed}, step ${step}`).toBe(size <= free);
        if (written) {
          model.push(frame);
          free -= size;
        }
      } else {
        const expected = model.shift();
        const got = ring.read();
        expect(got, `seed ${seed}, step ${step}`).toEqual(expected);
        if (expected) free += 8 + ((expected.length + 7) & ~7);
      }
      expect(ring.used).toBe(256 - free);
      // Records are multiples of 8 bytes, so every frame's bytes start 8-aligned (fast copies).
      expect(ring.used % 8).toBe(0);
    }
  });
});
