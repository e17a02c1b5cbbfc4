// Length-prefixed frames over a byte stream: frames come out whole however the stream is cut,
// and a frame over the limit is refused from its prefix, before any of it is buffered.
import { describe, expect, it } from 'vitest';
import { FrameReader, framePrefix } from '../src/launch/frame-stream.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const encode = (frames: Uint8Array[]) =>
  Buffer.concat(frames.flatMap((frame) => [framePrefix(frame.length), frame]));

describe('frame reader', () => {
  it('gives back every frame whole, however the stream is cut into chunks', () => {
    const seed = testSeed('frame reader');
    const random = seededRandom(seed);
    const frames = Array.from({ length: 200 }, (_, i) =>
      Uint8Array.from({ length: Math.floor(random() * 300) }, (_, k) => (i + k) & 255),
    );
    const stream = encode(frames);
    const got: Uint8Array[] = [];
    const reader = new FrameReader(1000, { frame: (frame) => got.push(frame), oversize: () => {} });
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * 700);
      reader.push(stream.subarray(at, at + size));
      at += size;
    }
    expect(
      got.map((frame) => Buffer.from(frame).toString('hex')),
      `seed ${seed}`,
    ).toEqual(frames.map((frame) => Buffer.from(frame).toString('hex')));
  });

  it('refuses a frame over its limit from the prefix alone, and reads nothing after it', () => {
    const got: Uint8Array[] = [];
    const refused: Array<[number, number]> = [];
    const reader = new FrameReader(100, {
      frame: (frame) => got.push(frame),
      oversize: (bytes, limit) => refused.push([bytes, limit]),
    });
    reader.push(encode([Uint8Array.of(1, 2)]));
    reader.push(framePrefix(256 * 1024 * 1024));
    reader.push(encode([Uint8Array.of(3)]));
    expect(got).toEqual([Buffer.from([1, 2])]);
    expect(refused).toEqual([[256 * 1024 * 1024, 100]]);
  });
});
