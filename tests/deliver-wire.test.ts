// Opaque routing: outputs forwarded as their bytes, Deliver frames written by hand. The hand-written
// encoding must be byte for byte what protobufjs writes (the trace hash and journals rely on it),
// and a host's output bytes reach a receiver only when they hold nothing but the envelope fields.
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  decodeOutputAt,
  type Envelope,
  encodeCommand,
  encodeDeliverFrame,
  encodeFrame,
  type Output,
} from '../src/protocol/index.js';
import { seededRandom, testSeed } from './helpers/seed.js';

/** Outputs as the supervisor reads them off a host's frame of TickDone. */
function outputsOf(outputs: Output[]): Output[] {
  const decoded = decodeFrame(encodeFrame({ events: [{ agent: 'a', done: { tick: 1, outputs } }] }));
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.frame.events[0]?.done?.outputs ?? [];
}

/** Field by field, as a protobuf encoder would write them: [tag, bytes] pairs in the given order. */
function rawOutput(fields: Array<[number, number, Uint8Array | number]>): Uint8Array {
  const bytes: number[] = [];
  const varint = (value: number) => {
    while (value >= 128) {
      bytes.push((value % 128) | 128);
      value = Math.floor(value / 128);
    }
    bytes.push(value);
  };
  for (const [field, type, value] of fields) {
    varint((field << 3) | type);
    if (typeof value === 'number') varint(value);
    else {
      varint(value.length);
      bytes.push(...value);
    }
  }
  return Uint8Array.from(bytes);
}

const text = (value: string) => new TextEncoder().encode(value);

/** A TickDone frame holding one output given as raw bytes (what a broken or hostile host could send). */
function frameWithRawOutput(output: Uint8Array): Uint8Array {
  const done = [...rawOutputField(output)];
  const tickDone = Uint8Array.from([0x08, 0x01, ...done]);
  const event = Uint8Array.from([0x0a, 0x01, 0x61, 0x1a, ...lengthOf(tickDone), ...tickDone]);
  return Uint8Array.from([0x12, ...lengthOf(event), ...event]);
}

function rawOutputField(output: Uint8Array): number[] {
  return [0x12, ...lengthOf(output), ...output];
}

function lengthOf(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let value = bytes.length;
  while (value >= 128) {
    out.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

function stamp(from: string, output: Output, tick: number, seq: number): Envelope & { wire?: Uint8Array } {
  const { to, kind, payload, correlationId, wire } = output as Output & { wire?: Uint8Array };
  return { from, to, kind, payload, correlationId, tick, seq, wire };
}

describe('opaque routing', () => {
  it('writes Deliver frames byte for byte as protobufjs does, spliced or field by field (fuzz)', () => {
    const seed = testSeed('deliver-wire');
    const random = seededRandom(seed);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
    const names = ['', 'a', 'sink', 'ünïcödé', '@gpu/mlp', '@external', 'x'.repeat(200)];
    for (let round = 0; round < 300; round++) {
      const outputs: Output[] = [];
      const count = Math.floor(random() * 6);
      for (let i = 0; i < count; i++) {
        const size = pick([0, 1, 16, 127, 128, 300, 20_000]);
        outputs.push({
          to: pick(names),
          kind: pick(['', 'k', 'application/json', 'troupe/rejected']),
          payload: Uint8Array.from({ length: size }, () => Math.floor(random() * 256)),
          correlationId: pick(['', 'a#1', 'ping#123456789']),
          delayTicks: pick([0, 0, 1, 300, 1_000_000]),
        });
      }
      const decoded = outputsOf(outputs);
      const tick = pick([0, 1, 127, 128, 2 ** 31, 2 ** 40]);
      // Some envelopes come from outputs (spliced), some are made by the runtime (no wire).
      const envelopes = decoded.map((output, i) =>
        random() < 0.7
          ? stamp(pick(names), output, tick, i + pick([0, 1, 2 ** 33]))
          : stamp('@troupe', outputs[i] as Output, tick, i + 1),
      );
      const deliver = { tick, envelopes, nextSeq: pick([0, 1, 2 ** 35]), stateHash: random() < 0.3 };
      const agent = pick(names.filter((name) => name !== ''));
      const expected = encodeCommand({
        agent,
        deliver: {
          ...deliver,
          envelopes: envelopes.map(({ wire: _wire, ...envelope }) => envelope),
        },
      });
      expect(
        Buffer.from(encodeDeliverFrame(agent, deliver)).equals(Buffer.from(expected)),
        `seed ${seed}, round ${round}`,
      ).toBe(true);
    }
  });

  it('splices the bytes of canonical outputs, the delay left off', () => {
    const [output] = outputsOf([{ to: 'sink', kind: 'k', payload: text('hi'), delayTicks: 5 }]) as Array<
      Output & { wire?: Uint8Array }
    >;
    expect(output).toMatchObject({ to: 'sink', kind: 'k', correlationId: '', delayTicks: 5 });
    expect([...(output?.wire ?? [])]).toEqual([
      ...rawOutput([
        [3, 2, text('sink')],
        [4, 2, text('k')],
        [5, 2, text('hi')],
      ]),
    ]);
  });

  it('does not forward what a host adds to an output: a forged sender, tick or unknown field', () => {
    const forged = [
      // A sender of its own (Envelope's field 2), after the address.
      rawOutput([
        [3, 2, text('sink')],
        [2, 2, text('admin')],
        [5, 2, text('x')],
      ]),
      // A tick and a sequence number (Envelope's 7 and 8).
      rawOutput([
        [3, 2, text('sink')],
        [7, 0, 99],
        [8, 0, 1],
      ]),
      // Unknown fields, and the address given twice (a decoder keeps the last).
      rawOutput([
        [3, 2, text('other')],
        [3, 2, text('sink')],
        [15, 2, text('?')],
      ]),
      // Out of order, and an empty field.
      rawOutput([
        [4, 2, text('k')],
        [3, 2, text('sink')],
        [6, 2, new Uint8Array(0)],
      ]),
    ];
    for (const bytes of forged) {
      const decoded = decodeFrame(frameWithRawOutput(bytes));
      if (!decoded.ok) throw new Error(decoded.error);
      const output = decoded.frame.events[0]?.done?.outputs?.[0] as Output & { wire?: Uint8Array };
      expect(output.wire).toBeUndefined();
      expect(output.to).toBe('sink');
      const frame = decodeFrame(
        encodeDeliverFrame('sink', { tick: 4, envelopes: [stamp('ping', output, 4, 1)], nextSeq: 1 }),
      );
      if (!frame.ok) throw new Error(frame.error);
      const envelope = frame.frame.commands[0]?.deliver?.envelopes?.[0];
      expect(envelope).toMatchObject({ from: 'ping', to: 'sink', tick: 4, seq: 1 });
    }
  });

  it('refuses outputs that do not decode: bad UTF-8, truncated, wrong wire types', () => {
    const bad = [
      rawOutput([[3, 2, Uint8Array.from([0xff, 0xfe])]]),
      rawOutput([[3, 2, text('sink')]]).subarray(0, 4),
      Uint8Array.from([0x1b]),
      Uint8Array.from([0x00, 0x01]),
    ];
    for (const bytes of bad) {
      expect(() => decodeOutputAt(bytes, 0, bytes.length)).toThrow();
      const decoded = decodeFrame(frameWithRawOutput(bytes));
      expect(decoded.ok).toBe(false);
    }
  });
});
