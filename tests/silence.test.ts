// Silence: how long peers have not been heard, counted only while connected to NATS.
import { describe, expect, it } from 'vitest';
import { Silence } from '../src/cluster/silence.js';

function clocked() {
  const clock = { now: 0 };
  return { clock, silence: new Silence<string>(() => clock.now) };
}

describe('Silence', () => {
  it('names the peers not heard for the given time, and only those', () => {
    const { clock, silence } = clocked();
    silence.heard('a');
    clock.now = 1000;
    silence.heard('b');
    clock.now = 1500;
    expect(silence.silent(1500)).toEqual(['a']);
    expect(silence.silent(500)).toEqual(['a', 'b']);
    expect(silence.silent(1501)).toEqual([]);
    expect(silence.peers).toEqual(['a', 'b']);
  });

  it('counts nothing while cut off, and gives every peer the whole time again once back', () => {
    const { clock, silence } = clocked();
    silence.heard('a');
    silence.disconnected();
    clock.now = 10_000;
    expect(silence.silent(1500)).toEqual([]);
    silence.reconnected();
    clock.now = 11_000;
    expect(silence.silent(1500)).toEqual([]);
    clock.now = 11_500;
    expect(silence.silent(1500)).toEqual(['a']);
  });

  it("says which beat is a peer's first since the connection came back", () => {
    const { silence } = clocked();
    expect(silence.heard('a')).toBe(false);
    silence.disconnected();
    silence.reconnected();
    expect(silence.heard('a')).toBe(true);
    expect(silence.heard('a')).toBe(false);
  });

  it('forgets a peer: no longer silent, nor heard', () => {
    const { clock, silence } = clocked();
    silence.heard('a');
    clock.now = 5000;
    silence.forget('a');
    expect(silence.silent(1500)).toEqual([]);
    expect(silence.has('a')).toBe(false);
  });
});
