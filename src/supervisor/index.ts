// Public surface of the supervisor: config, the runtime engine, its events, and the pure policies.
export type { Clock } from './clock.js';
export { FakeClock, systemClock } from './clock.js';
export type {
  AgentLimits,
  AgentSpec,
  Backoff,
  ChildSpec,
  ConfigIssue,
  Isolation,
  LoadOptions,
  MailboxOverflow,
  RestartType,
  Strategy,
  SupervisorSpec,
  SystemSpec,
} from './config/index.js';
export {
  actorSchema,
  ConfigError,
  DEFAULTS,
  findProjectRoot,
  formatIssue,
  loadSystem,
  systemSchema,
  validateFile,
} from './config/index.js';
export type { AgentStatus, AgentSummary, ProviderSkip, RunSummary, RuntimeEvent } from './events.js';
export type { ModelStatus } from './inference/index.js';
export { GpuService } from './inference/index.js';
export type { JournalSink, SyncPolicy } from './journal/index.js';
export {
  configHash,
  JournalWriter,
  journalHeader,
  journalModuleHashes,
  ReplayDriver,
  ReplayPlan,
  SYNC_POLICIES,
} from './journal/index.js';
export type { LifecycleState } from './lifecycle-machine.js';
export { lifecycleMachine } from './lifecycle-machine.js';
export type { ExitKind, Intensity, IntensityCheck } from './restart-policy.js';
export { addRestart, shouldRestart } from './restart-policy.js';
export type { Route, Routing } from './routing.js';
export { LocalRouting } from './routing.js';
export type { RuntimeOptions } from './runtime.js';
export { Runtime } from './runtime.js';
export type { Batch, DeadLetter, TickPlan } from './scheduler.js';
export { EXTERNAL, MODEL_PREFIX, REJECTED_KIND, RUNTIME, Scheduler } from './scheduler.js';
export type { SnapshotStore } from './snapshot-store.js';
export { MemorySnapshotStore } from './snapshot-store.js';
export type { ChildExit, Decision, RestartHistory, SupervisionContext } from './supervision.js';
export { backoffTicks, decideExit, GPU_HOST, NO_HISTORY, SupervisionTree } from './supervision.js';
