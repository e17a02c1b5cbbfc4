// Journal framing: records round-trip; a torn tail is told apart from a damaged record.
import { describe, expect, it } from 'vitest';
import { decodeJournal, encodeJournalRecord, type JournalRecord } from '../src/protocol/index.js';

const records: JournalRecord[] = [
  {
    header: {
      format: 1,
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
  { kill: { tick: 4, agent: 'pong', inFlight: true } },
];
const file = Buffer.concat(records.map(encodeJournalRecord));
/** Where each record ends in the file. */
const offsets: number[] = [];
for (const record of records) offsets.push((offsets.at(-1) ?? 0) + encodeJournalRecord(record).length);

describe('journal framing', () => {
  it('round-trips records, 64-bit fields as numbers and maps intact', () => {
    const read = decodeJournal(file);
    expect(read.validLength).toBe(file.length);
    expect(read.tornTail).toBeUndefined();
    expect(read.corrupt).toBeUndefined();
    expect(read.records).toHaveLength(4);
    expect(read.records[0]?.header).toMatchObject({
      system: 'hello',
      seed: 42,
      moduleHashes: { ping: 'cd'.repeat(32) },
    });
    expect(read.records[3]?.kill).toMatchObject({ tick: 4, agent: 'pong', inFlight: true });
  });

  it('detects a file cut in the middle of a record as a torn tail, keeping what came before', () => {
    for (const cut of [file.length - 1, (offsets[2] as number) + 3, (offsets[2] as number) + 9]) {
      const read = decodeJournal(file.subarray(0, cut));
      expect(read.corrupt).toBeUndefined();
      expect(read.records.length).toBe(3);
      expect(read.validLength).toBe(offsets[2]);
      expect(read.tornTail).toEqual({ offset: offsets[2], bytes: cut - (offsets[2] as number) });
    }
  });

  it('rejects a record whose body was altered by one byte, naming the record', () => {
    const damaged = Buffer.from(file);
    const inSecondBody = (offsets[0] as number) + 8 + 2;
    damaged[inSecondBody] = (damaged[inSecondBody] as number) ^ 0x01;
    const read = decodeJournal(damaged);
    expect(read.records).toHaveLength(1);
    expect(read.corrupt).toEqual({ index: 1, offset: offsets[0], reason: 'checksum mismatch' });
    expect(read.validLength).toBe(offsets[0]);
  });

  it('never throws on random bytes', () => {
    let state = 5;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 120) }, () => Math.floor(random() * 256));
      expect(() => decodeJournal(bytes)).not.toThrow();
    }
  });
});
