// Public surface of what the core does with a journal, without touching one: what to record (as
// effects the executor performs), and a recorded run fed back (ReplayPlan indexes it, ReplayDriver
// stages its inputs and checks the run against it). Pure: no file system here (journal/ reads and
// writes the files).
export {
  type BeforePlan,
  DEFAULT_CHECKPOINT_EVERY,
  JournalBridge,
  type JournalEffect,
  type KillOutcome,
} from './journal-bridge.js';
export { ReplayDriver } from './replay-driver.js';
export { type RecordedInput, type RecordedKill, ReplayPlan } from './replay-plan.js';
export { type RecordingSlice, ReplaySource } from './replay-source.js';
export { deliveryHash, type SentBatches, tickRecord } from './tick-record.js';
