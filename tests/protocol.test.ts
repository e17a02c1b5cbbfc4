// Frames: round trips, and a fuzz of random and mutated bytes that must be refused, never thrown.
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeCommand,
  encodeFrame,
  envelopeId,
  errorText,
  isStopCommand,
  peekFrame,
} from '../src/protocol/index.js';

/** A small deterministic generator, so a failing fuzz case can be reproduced. */
function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const sample = encodeFrame({
  commands: [
    {
      agent: 'sink',
      deliver: {
        tick: 12,
        envelopes: [
          {
            from: 'a',
            to: 'sink',
            kind: 'k',
            payload: new Uint8Array([1, 2, 3]),
            tick: 12,
            seq: 1,
          },
        ],
      },
    },
  ],
});

describe('frames', () => {
  it('round-trip commands and events with 64-bit fields as plain numbers', () => {
    const decoded = decodeFrame(sample);
    if (!decoded.ok) throw new Error(decoded.error);
    const envelope = decoded.frame.commands[0]?.deliver?.envelopes?.[0];
    expect(envelope).toMatchObject({ from: 'a', to: 'sink', tick: 12, seq: 1 });
    expect(envelopeId(envelope ?? {})).toBe('a#1');
    expect([...(envelope?.payload ?? [])]).toEqual([1, 2, 3]);
    const events = decodeFrame(
      encodeFrame({ events: [{ agent: 'a', done: { tick: 2 ** 40, outputs: [] } }] }),
    );
    expect(events.ok && events.frame.events[0]?.done?.tick).toBe(2 ** 40);
  });

  it('encodes the same command to the same bytes (the trace hash relies on it)', () => {
    const command = {
      agent: 'x',
      deliver: { tick: 3, envelopes: [{ from: 'y', to: 'x', seq: 1 }] },
    };
    expect(encodeCommand(command)).toEqual(encodeCommand(structuredClone(command)));
  });

  it('refuses what is not binary, empty frames and bodies without an agent', () => {
    expect(decodeFrame('hello')).toEqual({ ok: false, error: 'frame is not binary (got string)' });
    expect(decodeFrame({ a: 1 })).toMatchObject({ ok: false, error: expect.stringContaining('not binary') });
    expect(decodeFrame(new Uint8Array())).toEqual({ ok: false, error: 'frame is empty' });
    expect(decodeFrame(encodeFrame({ events: [{ log: { text: 'x' } }] }))).toEqual({
      ok: false,
      error: 'event names no agent',
    });
    expect(decodeFrame(encodeFrame({ events: [{ agent: 'a' }] }))).toEqual({
      ok: false,
      error: 'event for "a" carries no body',
    });
  });

  it('never throws on random bytes', () => {
    const random = generator(1);
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      const result = decodeFrame(bytes);
      if (!result.ok) {
        refused++;
        expect(result.error.length).toBeGreaterThan(0);
      }
    }
    expect(refused).toBeGreaterThan(4500);
  });

  it('never throws on mutated valid frames', () => {
    const random = generator(2);
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from(sample);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.3 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      expect(() => decodeFrame(cut)).not.toThrow();
    }
  });
});

describe('errorText', () => {
  it('says something for whatever was thrown, never "undefined"', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('a string')).toBe('a string');
    expect(errorText(undefined)).toBe('an error without a message (undefined was thrown)');
    expect(errorText(null)).toBe('an error without a message (null was thrown)');
    expect(errorText(42)).toBe('a non-Error value was thrown: 42');
    expect(errorText({ code: 7 })).toBe('a non-Error value was thrown: {"code":7}');
  });
});

describe('peekFrame', () => {
  it('reads the agent and the command of a frame without decoding it', () => {
    const name = 'agent-with-a-long-name-'.repeat(6);
    expect(peekFrame(encodeCommand({ agent: name, load: { modulePath: '/m.wasm' } }))).toEqual({
      agent: name,
      command: 'load',
    });
    expect(peekFrame(encodeCommand({ agent: 'a', deliver: { tick: 3, envelopes: [] } }))).toEqual({
      agent: 'a',
      command: 'deliver',
    });
    expect(peekFrame(encodeCommand({ agent: 'a', stop: { reason: 'x' } }))).toEqual({
      agent: 'a',
      command: 'stop',
    });
    expect(peekFrame(encodeFrame({ events: [{ agent: 'é', log: { level: 1, text: 't' } }] }))).toEqual({
      agent: 'é',
    });
  });

  it('tells a Stop command from the others without reading the agent name', () => {
    expect(isStopCommand(encodeCommand({ agent: 'a-long-name', stop: { reason: 'x' } }))).toBe(true);
    expect(isStopCommand(encodeCommand({ agent: 'a-long-name', deliver: { tick: 1 } }))).toBe(false);
    expect(isStopCommand(new Uint8Array([0x0a]))).toBe(false);
  });

  it('gives up on bytes that are not a frame of ours, never throwing', () => {
    const random = generator(11);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      expect(() => peekFrame(bytes)).not.toThrow();
    }
    expect(peekFrame(new Uint8Array([0x0a, 0x05, 0x0a, 0x09]))).toBeUndefined();
  });
});
