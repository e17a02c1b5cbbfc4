// Journal records on disk: [u32 length][u32 crc32][JournalRecord bytes], little-endian. Reading
// tells a torn tail (the last record runs past the end: a write cut short, safe to cut) from
// corruption (a complete record whose checksum fails: refused, naming the record).
import { crc32 } from 'node:zlib';
import { errorText } from './error-text.js';
import { troupe } from './generated/troupe.js';

export type JournalRecord = troupe.v1.IJournalRecord;

const FRAME = 8;

export function encodeJournalRecord(record: JournalRecord): Uint8Array {
  const body = troupe.v1.JournalRecord.encode(record).finish();
  const frame = Buffer.alloc(FRAME + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  frame.set(body, FRAME);
  return frame;
}

export interface JournalRead {
  records: troupe.v1.JournalRecord[];
  /** Bytes of whole, valid records from the start: where a resumed journal continues. */
  validLength: number;
  /** Set when the file ends inside a record: the bytes past validLength are a cut-short write. */
  tornTail?: { offset: number; bytes: number };
  /** Set when a complete record is damaged: nothing from it on can be trusted. */
  corrupt?: { index: number; offset: number; reason: string };
}

export function decodeJournal(data: Uint8Array): JournalRead {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: troupe.v1.JournalRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + FRAME > bytes.length) return { records, validLength: offset, tornTail: tail(bytes, offset) };
    const length = bytes.readUInt32LE(offset);
    const end = offset + FRAME + length;
    if (end > bytes.length) return { records, validLength: offset, tornTail: tail(bytes, offset) };
    const body = bytes.subarray(offset + FRAME, end);
    const index = records.length;
    if (crc32(body) !== bytes.readUInt32LE(offset + 4)) {
      return { records, validLength: offset, corrupt: { index, offset, reason: 'checksum mismatch' } };
    }
    try {
      records.push(troupe.v1.JournalRecord.decode(body));
    } catch (error) {
      return { records, validLength: offset, corrupt: { index, offset, reason: errorText(error) } };
    }
    offset = end;
  }
  return { records, validLength: offset };
}

function tail(bytes: Buffer, offset: number): { offset: number; bytes: number } {
  return { offset, bytes: bytes.length - offset };
}
