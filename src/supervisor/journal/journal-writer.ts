// Appends journal records to a file under a stated write policy:
//   tick     every record is on disk (fsync) before the next tick starts: a crash loses nothing
//            but a tick in flight;
//   interval records reach the disk at least every intervalMs (default 1 s): a crash loses at
//            most that much;
//   none     the operating system decides: a crash of the machine (not of Troupe) can lose more.
// Records are written with one write call each, so a crash of the process leaves at most one
// torn record at the tail, which the reader detects and cuts.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { encodeJournalRecord, type JournalRecord } from '../../protocol/index.js';

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
  #lastSync = Date.now();
  #dirty = false;

  /** Opens `path` for appending (a new file, or a journal being resumed). */
  constructor(path: string, policy: SyncPolicy, options: { intervalMs?: number } = {}) {
    this.#fd = openSync(path, 'a');
    this.#policy = policy;
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  write(record: JournalRecord): void {
    writeSync(this.#fd, encodeJournalRecord(record));
    this.#dirty = true;
  }

  tickDone(): void {
    if (!this.#dirty) return;
    if (
      this.#policy === 'tick' ||
      (this.#policy === 'interval' && Date.now() - this.#lastSync >= this.#intervalMs)
    ) {
      fsyncSync(this.#fd);
      this.#lastSync = Date.now();
      this.#dirty = false;
    }
  }

  close(): void {
    if (this.#dirty && this.#policy !== 'none') fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}
