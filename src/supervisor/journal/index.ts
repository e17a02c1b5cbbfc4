// Public surface of the journal: records, the writer and its write policies.

export { compareJournals, type Parting } from './compare.js';
export { JournalBridge, type KillOutcome } from './journal-bridge.js';
export {
  configHash,
  DEFAULT_CHECKPOINT_EVERY,
  journalHeader,
  journalModuleHashes,
} from './journal-header.js';
export type { JournalSink, SyncPolicy } from './journal-writer.js';
export { JournalWriter, SYNC_POLICIES } from './journal-writer.js';
export { ReplayDriver } from './replay-driver.js';
export { type RecordedInput, type RecordedKill, ReplayPlan } from './replay-plan.js';
export { deliveryHash, type SentBatches, tickRecord } from './tick-record.js';
