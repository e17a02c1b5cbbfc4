// Appends journal records to a file under a stated write policy:
//   tick     every record is on disk (fsync) before the next tick starts: a crash loses nothing
//            but a tick in flight;
//   interval records reach the disk at least every intervalMs (default 1 s): a crash loses at
//            most that much;
//   none     the operating system decides: a crash of the machine (not of Troupe) can lose more.
// Records are written with one write call each, so a crash of the process leaves at most one
// torn record at the tail, which the reader detects and cuts. Each record carries its number and
// a checksum chained from the one before (protocol/journal-codec.ts).
import { closeSync, fstatSync, fsyncSync, openSync, writeSync } from 'node:fs';
import {
  encodeJournalRecord,
  JOURNAL_MAGIC,
  JOURNAL_START,
  type JournalChain,
  type JournalRecord,
} from '../../protocol/index.js';
import { type Clock, systemClock } from '../clock.js';

export type SyncPolicy = 'tick' | 'interval' | 'none';
export const SYNC_POLICIES: readonly SyncPolicy[] = ['tick', 'interval', 'none'];

export interface JournalSink {
  write(record: JournalRecord): void;
  /** A tick's records are complete (the runtime calls this before the next tick starts). */
  tickDone(): void;
  close(): void;
}

export class JournalWriter implements JournalSink {
  readonly #fd: number;
  readonly #policy: SyncPolicy;
  readonly #intervalMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  #lastSync: number;
  #dirty = false;
  #chain: JournalChain;

  /**
   * Opens `path` for appending: a new file, or a journal being resumed, whose records end with
   * `options.chain` (from reading it; required when the file is not empty). The `interval`
   * policy measures its interval on `options.clock` (monotonic by default).
   */
  constructor(
    path: string,
    policy: SyncPolicy,
    options: { intervalMs?: number; chain?: JournalChain; clock?: Pick<Clock, 'now'> } = {},
  ) {
    this.#fd = openSync(path, 'a');
    this.#policy = policy;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#clock = options.clock ?? systemClock;
    this.#lastSync = this.#clock.now();
    if (fstatSync(this.#fd).size === 0) {
      writeSync(this.#fd, JOURNAL_MAGIC);
      this.#chain = JOURNAL_START;
    } else if (options.chain) {
      this.#chain = options.chain;
    } else {
      closeSync(this.#fd);
      throw new Error(`${path} is not empty: continuing a journal needs the chain its records end with`);
    }
  }

  write(record: JournalRecord): void {
    const { bytes, chain } = encodeJournalRecord(record, this.#chain);
    writeSync(this.#fd, bytes);
    this.#chain = chain;
    this.#dirty = true;
  }

  tickDone(): void {
    if (!this.#dirty) return;
    if (
      this.#policy === 'tick' ||
      (this.#policy === 'interval' && this.#clock.now() - this.#lastSync >= this.#intervalMs)
    ) {
      fsyncSync(this.#fd);
      this.#lastSync = this.#clock.now();
      this.#dirty = false;
    }
  }

  close(): void {
    if (this.#dirty && this.#policy !== 'none') fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}
