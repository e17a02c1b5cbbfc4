// Public surface of the journal's files: the header, the writer and its write policies, and
// comparing two journals. Replaying one is the core's (supervisor/replay).

export { compareJournals, type Parting } from './compare.js';
export { configHash, journalHeader, journalModuleHashes } from './journal-header.js';
export {
  checkJournal,
  type JournalCheck,
  JournalOpenError,
  type OpenedJournal,
  openJournalFor,
  readJournalFile,
} from './journal-open.js';
export type { JournalSink, SyncPolicy } from './journal-writer.js';
export { JournalWriter, SYNC_POLICIES } from './journal-writer.js';
