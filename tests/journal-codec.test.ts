// Journal framing: records round-trip; a torn tail (the last record cut short) is told apart from
// damage, and records repeated, swapped or missing are refused by number and offset.
import { describe, expect, it } from 'vitest';
import {
  decodeJournal,
  decodeJournalRecords,
  encodeJournalRecord,
  JOURNAL_MAGIC,
  JOURNAL_START,
  type JournalRecord,
} from '../src/protocol/index.js';

const records: JournalRecord[] = [
  {
    header: {
      format: 2,
      troupeVersion: '0.1.0',
      abiVersion: 'troupe.v1',
      system: 'hello',
      seed: 42,
      configHash: 'ab'.repeat(32),
      moduleHashes: { ping: 'cd'.repeat(32) },
    },
  },
  { inject: { tick: 3, from: '@external', to: 'ping', kind: 'go', payload: new Uint8Array([1, 2, 3]) } },
  {
    tick: {
      tick: 3,
      agents: ['ping', 'pong'],
      hashes: [new Uint8Array(8).fill(1), new Uint8Array(8).fill(2)],
    },
  },
  { kill: { tick: 0, agent: 'pong', inFlight: true } },
];

/** Each record's frame, chained as a writer would write them. */
const frames: Buffer[] = [];
let chain = JOURNAL_START;
for (const record of records) {
  const encoded = encodeJournalRecord(record, chain);
  frames.push(Buffer.from(encoded.bytes));
  chain = encoded.chain;
}
const journal = (parts: readonly Buffer[]) => Buffer.concat([JOURNAL_MAGIC, ...parts]);
const file = journal(frames);
/** Where each record starts in the file. */
const starts: number[] = [];
let at = JOURNAL_MAGIC.length;
for (const frame of frames) {
  starts.push(at);
  at += frame.length;
}

describe('journal framing', () => {
  it('round-trips records, 64-bit fields as numbers (zero included) and maps intact', () => {
    const read = decodeJournal(file);
    expect(read.validLength).toBe(file.length);
    expect(read.tornTail).toBeUndefined();
    expect(read.corrupt).toBeUndefined();
    expect(read.records).toHaveLength(4);
    expect(read.chain).toEqual(chain);
    expect(read.records[0]?.header).toMatchObject({
      system: 'hello',
      seed: 42,
      moduleHashes: { ping: 'cd'.repeat(32) },
    });
    expect(read.records[3]?.kill).toMatchObject({ tick: 0, agent: 'pong', inFlight: true });
    expect(typeof read.records[3]?.kill?.tick).toBe('number');
  });

  it('decodes a journal in parts (as a stream holds it), each continuing the chain of the one before', () => {
    const first = decodeJournal(journal(frames.slice(0, 2)));
    const rest = decodeJournalRecords(Buffer.concat(frames.slice(2)), first.chain);
    expect(rest.corrupt).toBeUndefined();
    expect([...first.records, ...rest.records]).toEqual(decodeJournal(file).records);
    expect(rest.chain).toEqual(chain);
    // A part out of place is refused by number.
    const skipped = decodeJournalRecords(Buffer.concat(frames.slice(3)), first.chain);
    expect(skipped.records).toEqual([]);
    expect(skipped.corrupt?.reason).toBe('it is numbered 3 where record 2 belongs');
  });

  it('takes a file cut inside its last record for a torn tail, keeping what came before', () => {
    const last = starts[3] as number;
    for (const cut of [file.length - 1, last + 3, last + 15, last + 16]) {
      const read = decodeJournal(file.subarray(0, cut));
      expect(read.corrupt).toBeUndefined();
      expect(read.records).toHaveLength(3);
      expect(read.validLength).toBe(last);
      expect(read.tornTail).toEqual({ offset: last, bytes: cut - last });
    }
  });

  it('takes one flipped bit in a length for damage, not a torn tail, even when it points past the end', () => {
    for (const bit of [0, 7, 20, 31]) {
      const damaged = Buffer.from(file);
      const at = (starts[1] as number) + (bit >> 3);
      damaged[at] = (damaged[at] as number) ^ (1 << (bit & 7));
      const read = decodeJournal(damaged);
      expect(read.tornTail).toBeUndefined();
      expect(read.corrupt).toEqual({
        index: 1,
        offset: starts[1],
        reason: 'its header (length and number) fails its checksum',
      });
      expect(read.records).toHaveLength(1);
    }
  });

  it('refuses a record whose contents were altered by one byte, naming its number and offset', () => {
    const damaged = Buffer.from(file);
    const inSecondBody = (starts[1] as number) + 16 + 2;
    damaged[inSecondBody] = (damaged[inSecondBody] as number) ^ 0x01;
    const read = decodeJournal(damaged);
    expect(read.records).toHaveLength(1);
    expect(read.corrupt).toEqual({
      index: 1,
      offset: starts[1],
      reason: 'its contents fail the checksum chained from the record before',
    });
    expect(read.validLength).toBe(starts[1]);
  });

  it('refuses duplicated, swapped and missing records by number and offset', () => {
    const [a, b, c, d] = frames as [Buffer, Buffer, Buffer, Buffer];
    const duplicated = decodeJournal(journal([a, b, b, c, d]));
    expect(duplicated.corrupt).toMatchObject({ index: 2, reason: 'it is numbered 1 where record 2 belongs' });
    expect(duplicated.corrupt?.offset).toBe(JOURNAL_MAGIC.length + a.length + b.length);
    const swapped = decodeJournal(journal([a, c, b, d]));
    expect(swapped.corrupt).toMatchObject({ index: 1, reason: 'it is numbered 2 where record 1 belongs' });
    const gap = decodeJournal(journal([a, b, d]));
    expect(gap.corrupt).toMatchObject({ index: 2, reason: 'it is numbered 3 where record 2 belongs' });
    // A record copied in from another journal at the right number still breaks the chain.
    const other = encodeJournalRecord({ kill: { tick: 9, agent: 'x' } }, { index: 1, crc: 12345 });
    const foreign = decodeJournal(journal([a, Buffer.from(other.bytes), c, d]));
    expect(foreign.corrupt).toMatchObject({
      index: 1,
      reason: 'its contents fail the checksum chained from the record before',
    });
  });

  it('refuses a file that is not a journal of this format', () => {
    const read = decodeJournal(Buffer.from('hello world, not a journal'));
    expect(read.corrupt).toMatchObject({ index: 0, offset: 0 });
    expect(read.records).toHaveLength(0);
  });

  it('never throws on random bytes, with or without the marker', () => {
    let state = 5;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    for (let i = 0; i < 2000; i++) {
      const noise = Uint8Array.from({ length: Math.floor(random() * 120) }, () => Math.floor(random() * 256));
      expect(() => decodeJournal(noise)).not.toThrow();
      expect(() => decodeJournal(Buffer.concat([JOURNAL_MAGIC, noise]))).not.toThrow();
    }
  });
});
