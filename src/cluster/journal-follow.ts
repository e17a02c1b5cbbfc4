// Follows a journal kept in a JetStream stream while its coordinator writes it (a standby with
// `--follow`): every message as it is stored, its records checked as a file's are (framing,
// numbering, the chain from the record before), so the standby can replay the run as it goes.
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeJournalRecords,
  errorText,
  JOURNAL_START,
  type JournalChain,
  type JournalRecord,
} from '../protocol/index.js';
import { journalHolder, journalSubjects, manager, type StoredJournal, streamInfo } from './journal-stream.js';

/** How often the stream is looked for while it does not exist yet. */
const LOOK_MS = 250;

export interface FollowHandlers {
  /** A message of records, in order: its bytes as stored, and its records, checked. */
  records(part: { bytes: Uint8Array; records: JournalRecord[] }): void;
  /** The run ended on its coordinator (the last message says so). */
  ended(end: NonNullable<StoredJournal['ended']>): void;
  /** The stream cannot be followed (damaged records, another system's journal, no JetStream). */
  failed(reason: string): void;
}

/** Where a followed journal stands: the last message read, and the chain after its records. */
export interface FollowPosition {
  lastSequence: number;
  chain: JournalChain;
}

export interface FollowedJournal {
  /** Resolves once every message the stream holds now has been read (and handed on). */
  caughtUp(): Promise<FollowPosition>;
  stop(): Promise<void>;
}

/**
 * Follows the journal of `system` in `stream` from its first message, waiting for the stream
 * while it does not exist yet.
 */
export function followStreamJournal(
  nc: NatsConnection,
  system: string,
  stream: string,
  on: FollowHandlers,
): FollowedJournal {
  let position: FollowPosition = { lastSequence: 0, chain: JOURNAL_START };
  const waiters: Array<{ sequence: number; resolve: (at: FollowPosition) => void }> = [];
  let stopped = false;
  let close: (() => Promise<void>) | undefined;
  const subject = journalSubjects(system, stream);

  const read = (sequence: number, messageSubject: string, data: Uint8Array): string | undefined => {
    if (messageSubject === subject.records) {
      const part = decodeJournalRecords(data, position.chain);
      const problem = part.corrupt?.reason ?? (part.tornTail ? 'it ends inside a record' : undefined);
      if (problem) return `journal js:${stream}: message ${sequence} is damaged: ${problem}`;
      position = { lastSequence: sequence, chain: part.chain };
      on.records({ bytes: data, records: part.records });
    } else {
      position = { ...position, lastSequence: sequence };
      if (messageSubject === subject.ended)
        on.ended(JSON.parse(new TextDecoder().decode(data)) as NonNullable<StoredJournal['ended']>);
    }
    for (const waiter of waiters.filter((one) => one.sequence <= sequence)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(position);
    }
    return undefined;
  };

  const follow = async () => {
    if (!(await streamReady(nc, system, stream, () => stopped))) return;
    // An ordered consumer from the first message: it delivers each once, in order, and is made
    // again by the client after a reconnect.
    const messages = await (await jetstream(nc).consumers.get(stream)).consume();
    close = () => messages.close().then(() => {});
    if (stopped) return close();
    for await (const message of messages) {
      const problem = read(message.seq, message.subject, message.data);
      if (problem) {
        on.failed(problem);
        return close();
      }
    }
  };
  follow().catch((error: unknown) => {
    if (!stopped) on.failed(`journal js:${stream}: ${errorText(error)}`);
  });

  return {
    caughtUp: async () => {
      const info = await streamInfo(await manager(nc), stream);
      const sequence = info?.state.last_seq ?? 0;
      if (position.lastSequence >= sequence) return position;
      return new Promise((resolve) => waiters.push({ sequence, resolve }));
    },
    stop: async () => {
      stopped = true;
      await close?.();
    },
  };
}

/**
 * Waits until `stream` exists, and checks it holds the journal of `system`; false when stopped
 * while waiting.
 */
async function streamReady(
  nc: NatsConnection,
  system: string,
  stream: string,
  stopped: () => boolean,
): Promise<boolean> {
  const jsm = await manager(nc);
  for (;;) {
    if (stopped()) return false;
    const info = await streamInfo(jsm, stream);
    if (info) {
      journalHolder(info.config.subjects ?? [], system, stream);
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOOK_MS));
  }
}
