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
  readSystemName,
  suggestion,
  systemSchema,
  validateFile,
} from './config/index.js';
export type {
  AgentStatus,
  AgentSummary,
  Batch,
  ChildExit,
  ControlCommand,
  CoreInput,
  CoreOptions,
  DeadLetter,
  Decision,
  Effect,
  ExitKind,
  GpuPort,
  HostRef,
  Intensity,
  IntensityCheck,
  LifecycleState,
  ModelStatus,
  PendingRequest,
  Prepared,
  ProviderSkip,
  RestartHistory,
  Route,
  RouterHooks,
  Routing,
  RunSummary,
  RuntimeEvent,
  SnapshotStore,
  SupervisionContext,
  TickPlan,
  TimerRef,
} from './core/index.js';
export {
  addRestart,
  backoffTicks,
  decideExit,
  describeExit,
  EXTERNAL,
  GPU_HOST,
  hostFrameLimit,
  InferenceRouter,
  LocalRouting,
  lifecycleMachine,
  MemorySnapshotStore,
  MODEL_PREFIX,
  NO_HISTORY,
  PendingRequests,
  REJECTED_KIND,
  RUNTIME,
  RuntimeCore,
  Scheduler,
  SupervisionTree,
  shouldRestart,
} from './core/index.js';
export { GpuService, hashFile, modelFiles, modelHash, readFileAt } from './inference/index.js';
export type { JournalSink, Parting, SyncPolicy } from './journal/index.js';
export {
  compareJournals,
  configHash,
  JournalWriter,
  journalHeader,
  journalModuleHashes,
  SYNC_POLICIES,
} from './journal/index.js';
export { defaultModuleCacheDir, ModuleCache } from './module-cache.js';
export { ReplayDriver, ReplayPlan } from './replay/index.js';
export type { RuntimeOptions } from './runtime.js';
export { Runtime } from './runtime.js';
