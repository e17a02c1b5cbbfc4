// A run's journal kept in a JetStream stream on the cluster's NATS server (`--journal js:NAME`),
// so it outlives the coordinator's machine: a coordinator started anywhere (or a standby) resumes
// the run from it. One message per record, framed exactly as in a journal file, so reading it
// back is decodeJournal over the same bytes, with all its checks.
//
// Writing is behind the run, in order, one message at a time holding every record written since
// the last one went (so the journal keeps up with any tick rate): each publish expects the stream's
// last sequence to be the one this writer stored last, so of two coordinators writing the same
// journal only one goes on (the other is told, and stops), and a publish whose answer was lost is
// sent again under the same message id (the server answers a repeat as a duplicate). A
// coordinator that dies loses the records not yet stored: those of its last ticks, which a resume
// runs again, as with `--journal-sync interval` on a file.
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanoid } from 'nanoid';
import {
  decodeJournal,
  encodeJournalRecord,
  errorText,
  JOURNAL_MAGIC,
  JOURNAL_START,
  type JournalChain,
  type JournalRecord,
} from '../protocol/index.js';
import type { JournalSink } from '../supervisor/index.js';

export const STREAM_JOURNAL_PREFIX = 'js:';

/** How long a record may go unstored (the server away) before the journal counts as failed. */
const GIVE_UP_MS = 30_000;
const RETRY_MS = 200;
/** Records sent in one message at most (well under the server's default 1 MB payload). */
const BATCH_BYTES = 256 * 1024;

export class StreamJournalError extends Error {
  override name = 'StreamJournalError';
}

/** The stream a `--journal` value names ("js:NAME"), or undefined for a file. */
export function streamJournalName(journal: string | undefined): string | undefined {
  if (!journal?.startsWith(STREAM_JOURNAL_PREFIX)) return undefined;
  const name = journal.slice(STREAM_JOURNAL_PREFIX.length);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
    throw new StreamJournalError(
      `--journal ${journal}: a stream name is 1 to 64 letters, digits, "-" or "_" (got "${name}")`,
    );
  return name;
}

/**
 * The system whose journal a stream with these subjects holds (`system` itself, when given), or
 * a StreamJournalError saying the stream holds something else.
 */
export function journalHolder(
  subjects: readonly string[],
  system: string | undefined,
  stream: string,
): string {
  const named = subjects.map((subject) => systemOf(subject, stream));
  const holder = system ?? named.find((name) => name !== undefined);
  if (holder === undefined || !named.includes(holder))
    throw new StreamJournalError(
      `stream ${stream} does not hold a journal of ${system === undefined ? 'a Troupe system' : `"${system}"`} (its subjects: ${subjects.join(', ') || 'none'})`,
    );
  return holder;
}

/** The system a stream subject is the journal of ("troupe.<system>.journal.<stream>.>"). */
function systemOf(subject: string, stream: string): string | undefined {
  const suffix = `.journal.${stream}.>`;
  if (!subject.startsWith('troupe.') || !subject.endsWith(suffix)) return undefined;
  return subject.slice('troupe.'.length, -suffix.length) || undefined;
}

export function journalSubjects(system: string, stream: string) {
  const base = `troupe.${system}.journal.${stream}`;
  return { all: `${base}.>`, records: `${base}.records`, ended: `${base}.ended` };
}

/** What a stream holds: the journal's bytes (as a file would), and whether the run ended. */
export interface StoredJournal {
  bytes: Buffer;
  records: number;
  /** The stream's last sequence: where a writer continuing it goes on. */
  lastSequence: number;
  /** The run's end, when the last message says it ended (JSON { ticks, trace, ok }). */
  ended?: { ticks: number; trace: string; ok: boolean };
}

/**
 * Reads the journal in `stream` (of `system`; any system's when undefined: the one its subjects
 * name); undefined when there is no such stream.
 */
export async function readStreamJournal(
  nc: NatsConnection,
  system: string | undefined,
  stream: string,
): Promise<StoredJournal | undefined> {
  const info = await streamInfo(await manager(nc), stream);
  if (!info) return undefined;
  const holder = journalHolder(info.config.subjects ?? [], system, stream);
  const subject = journalSubjects(holder, stream);
  const lastSequence = info.state.last_seq;
  const parts: Uint8Array[] = [JOURNAL_MAGIC];
  let ended: StoredJournal['ended'];
  if (info.state.messages > 0) {
    const consumer = await jetstream(nc).consumers.get(stream);
    const messages = await consumer.consume();
    for await (const message of messages) {
      // A run that ended and was then resumed has records after its end: only the last counts.
      ended = undefined;
      if (message.subject === subject.records) {
        parts.push(message.data);
      } else if (message.subject === subject.ended) {
        ended = JSON.parse(new TextDecoder().decode(message.data)) as StoredJournal['ended'];
      }
      if (message.seq >= lastSequence) break;
    }
    await messages.close();
  }
  const bytes = Buffer.concat(parts);
  const records = decodeJournal(bytes).records.length;
  return { bytes, records, lastSequence, ...(ended ? { ended } : {}) };
}

/**
 * A new journal in `stream` (created, file storage, unless it exists empty with this system's
 * subjects); a stream that holds a run already is refused.
 */
export async function createStreamJournal(
  nc: NatsConnection,
  system: string,
  stream: string,
  onFailed: (reason: string) => void,
): Promise<StreamJournal> {
  const existing = await readStreamJournal(nc, system, stream);
  if (existing && existing.lastSequence > 0)
    throw new StreamJournalError(
      `journal js:${stream} already holds a run (${existing.records} records); continue it with --resume, or choose another name`,
    );
  if (!existing) {
    const jsm = await manager(nc);
    await jsm.streams.add({
      name: stream,
      subjects: [journalSubjects(system, stream).all],
      storage: StorageType.File,
    });
  }
  return new StreamJournal(nc, system, stream, { lastSequence: 0, chain: JOURNAL_START, onFailed });
}

/** What the server says of `stream`, or undefined when there is no such stream. */
export async function streamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  return jsm.streams.info(stream).catch((error: unknown) => {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)
      return undefined;
    throw error;
  });
}

/** The JetStream manager, or a StreamJournalError saying the server has no JetStream. */
export async function manager(nc: NatsConnection) {
  try {
    return await jetstreamManager(nc);
  } catch (error) {
    throw new StreamJournalError(
      `the NATS server has no JetStream (run nats-server with -js and a store folder, -sd DIR): ${errorText(error)}`,
    );
  }
}

interface Pending {
  subject: string;
  bytes: Uint8Array;
}

export class StreamJournal implements JournalSink {
  readonly #js: JetStreamClient;
  readonly #subjects: ReturnType<typeof journalSubjects>;
  readonly #onFailed: (reason: string) => void;
  /** This writer's own prefix for message ids (a repeat is known as one; another writer's is not). */
  readonly #writer = nanoid(12);
  readonly #queue: Pending[] = [];
  /** The message being stored: sent again as it is (same id) until the server has it. */
  #inFlight: (Pending & { id: string }) | undefined;
  #chain: JournalChain;
  #lastSequence: number;
  #sent = 0;
  /** True while records are being sent (a drain is running); `#draining` ends with it. */
  #busy = false;
  #draining: Promise<void> = Promise.resolve();
  #failure: string | undefined;

  /** Continues the journal in `stream` after `lastSequence`, its records ending with `chain`. */
  constructor(
    nc: NatsConnection,
    system: string,
    stream: string,
    at: { lastSequence: number; chain: JournalChain; onFailed: (reason: string) => void },
  ) {
    this.#js = jetstream(nc);
    this.#subjects = journalSubjects(system, stream);
    this.#lastSequence = at.lastSequence;
    this.#chain = at.chain;
    this.#onFailed = at.onFailed;
  }

  write(record: JournalRecord): void {
    const { bytes, chain } = encodeJournalRecord(record, this.#chain);
    this.#chain = chain;
    this.#send(this.#subjects.records, bytes);
  }

  /** Records are stored as fast as the server takes them; a tick does not wait for them. */
  tickDone(): void {}

  close(): void {}

  /** Says the run ended (a standby then has nothing to take over); resolves once all is stored. */
  ended(summary: { ticks: number; trace: string; ok: boolean }): Promise<void> {
    this.#send(this.#subjects.ended, new TextEncoder().encode(JSON.stringify(summary)));
    return this.settled();
  }

  /** Resolves once every record written so far is stored (or the journal failed). */
  async settled(): Promise<void> {
    while (this.#busy) await this.#draining;
  }

  /** Why the journal stopped taking records, if it did. */
  get failure(): string | undefined {
    return this.#failure;
  }

  #send(subject: string, bytes: Uint8Array): void {
    if (this.#failure) return;
    this.#queue.push({ subject, bytes });
    if (this.#busy) return;
    this.#busy = true;
    this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    let since = performance.now();
    // The loop's last check and the end of `#busy` happen together: a record written after
    // them starts a new drain.
    for (;;) {
      if ((this.#queue.length === 0 && !this.#inFlight) || this.#failure) {
        this.#busy = false;
        return;
      }
      this.#inFlight ??= this.#nextMessage();
      const next = this.#inFlight;
      try {
        const ack = await this.#js.publish(next.subject, next.bytes, {
          msgID: next.id,
          expect: { lastSequence: this.#lastSequence },
        });
        this.#lastSequence = ack.seq;
        this.#inFlight = undefined;
        since = performance.now();
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
          this.#fail(
            `another coordinator has written to the journal (the stream's last record is not this one's); this one stops`,
          );
        } else if (performance.now() - since > GIVE_UP_MS) {
          this.#fail(`records could not be stored for ${GIVE_UP_MS / 1000} s: ${errorText(error)}`);
        } else {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    }
  }

  #fail(reason: string): void {
    this.#failure = reason;
    this.#queue.length = 0;
    this.#inFlight = undefined;
    this.#onFailed(reason);
  }

  /** The records queued, as many as go in one message, or the end marker alone. */
  #nextMessage(): Pending & { id: string } {
    const first = this.#queue.shift() as Pending;
    const parts = [first.bytes];
    let size = first.bytes.length;
    while (first.subject === this.#subjects.records && this.#queue[0]?.subject === first.subject) {
      const more = this.#queue[0].bytes;
      if (size + more.length > BATCH_BYTES) break;
      parts.push(more);
      size += more.length;
      this.#queue.shift();
    }
    const bytes = parts.length === 1 ? first.bytes : Buffer.concat(parts);
    return { subject: first.subject, bytes, id: `${this.#writer}-${this.#sent++}` };
  }
}
