// Journal records on disk. A journal file starts with the 8-byte magic "TRPJRNL2"; then each
// record is framed, little-endian, as
//   [u32 length][u32 index][u32 header crc][u32 chain crc][JournalRecord bytes]
// where `index` counts records from 0, `header crc` covers length and index, and `chain crc` is
// crc32 of the body seeded with the previous record's chain crc (0 before the first), so a record
// repeated, swapped, dropped or altered is refused by number and offset. Only a record that is
// provably cut short at the end of the file (a header not complete, or a valid header whose body
// runs past the end) is a torn tail; anything else that does not check out is damage, and nothing
// from it on is trusted.
import { crc32 } from 'node:zlib';
import { errorText } from './error-text.js';
import { troupe } from './generated/troupe.js';

export type JournalRecord = troupe.v1.IJournalRecord;

export const JOURNAL_MAGIC = Buffer.from('TRPJRNL2', 'latin1');
const HEADER = 16;

/** Where the next record continues a journal: its index and the chain so far. */
export interface JournalChain {
  index: number;
  crc: number;
}

export const JOURNAL_START: JournalChain = { index: 0, crc: 0 };

/** Frames one record as record `chain.index`; returns the bytes and the chain after it. */
export function encodeJournalRecord(
  record: JournalRecord,
  chain: JournalChain,
): { bytes: Uint8Array; chain: JournalChain } {
  const body = troupe.v1.JournalRecord.encode(record).finish();
  const frame = Buffer.alloc(HEADER + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(chain.index, 4);
  frame.writeUInt32LE(crc32(frame.subarray(0, 8)), 8);
  const crc = crc32(body, chain.crc);
  frame.writeUInt32LE(crc, 12);
  frame.set(body, HEADER);
  return { bytes: frame, chain: { index: chain.index + 1, crc } };
}

export interface JournalRead {
  records: troupe.v1.JournalRecord[];
  /** Bytes of whole, valid records from the start: where a resumed journal continues. */
  validLength: number;
  /** The chain after the last valid record: what a writer continuing the journal starts from. */
  chain: JournalChain;
  /** Set when the file ends inside its last record: the bytes past validLength are a cut-short write. */
  tornTail?: { offset: number; bytes: number };
  /** Set when a record is damaged, repeated, out of order or missing: nothing from it on is trusted. */
  corrupt?: { index: number; offset: number; reason: string };
}

export function decodeJournal(data: Uint8Array): JournalRead {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const magic = bytes.subarray(0, JOURNAL_MAGIC.length);
  if (!magic.equals(JOURNAL_MAGIC.subarray(0, magic.length)))
    return {
      records: [],
      validLength: 0,
      chain: JOURNAL_START,
      corrupt: {
        index: 0,
        offset: 0,
        reason: 'the file does not start with a Troupe journal format 2 marker',
      },
    };
  if (bytes.length < JOURNAL_MAGIC.length)
    return {
      records: [],
      validLength: 0,
      chain: JOURNAL_START,
      tornTail: { offset: 0, bytes: bytes.length },
    };
  return decodeRecordsFrom(bytes, JOURNAL_MAGIC.length, JOURNAL_START);
}

/**
 * Framed records that continue a journal at `chain` (a part of one, as a journal kept in a
 * stream holds them: no marker); offsets count from the start of `data`.
 */
export function decodeJournalRecords(data: Uint8Array, chain: JournalChain): JournalRead {
  return decodeRecordsFrom(Buffer.from(data.buffer, data.byteOffset, data.byteLength), 0, chain);
}

function decodeRecordsFrom(bytes: Buffer, start: number, from: JournalChain): JournalRead {
  const records: troupe.v1.JournalRecord[] = [];
  let chain = from;
  const damaged = (offset: number, reason: string): JournalRead => ({
    records,
    validLength: offset,
    chain,
    corrupt: { index: chain.index, offset, reason },
  });
  const torn = (offset: number): JournalRead => ({
    records,
    validLength: offset,
    chain,
    tornTail: { offset, bytes: bytes.length - offset },
  });
  let offset = start;
  while (offset < bytes.length) {
    if (offset + HEADER > bytes.length) return torn(offset);
    const length = bytes.readUInt32LE(offset);
    const index = bytes.readUInt32LE(offset + 4);
    if (crc32(bytes.subarray(offset, offset + 8)) !== bytes.readUInt32LE(offset + 8))
      return damaged(offset, 'its header (length and number) fails its checksum');
    if (index !== chain.index)
      return damaged(offset, `it is numbered ${index} where record ${chain.index} belongs`);
    const end = offset + HEADER + length;
    if (end > bytes.length) return torn(offset);
    const body = bytes.subarray(offset + HEADER, end);
    const crc = crc32(body, chain.crc);
    if (crc !== bytes.readUInt32LE(offset + 12))
      return damaged(offset, 'its contents fail the checksum chained from the record before');
    try {
      records.push(troupe.v1.JournalRecord.decode(body));
    } catch (error) {
      return damaged(offset, `its contents do not decode: ${errorText(error)}`);
    }
    chain = { index: chain.index + 1, crc };
    offset = end;
  }
  return { records, validLength: offset, chain };
}
