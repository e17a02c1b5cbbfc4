// Public surface of the runtime core: decisions without IO (scheduler, routing, supervision, the
// core that ties them), the inputs and effects it speaks, and the events it reports.
export type { ControlCommand, CoreInput, Effect, HostRef, Prepared, TimerRef } from './core-io.js';
export type {
  AgentStatus,
  AgentSummary,
  ModelStatus,
  ProviderSkip,
  RunSummary,
  RuntimeEvent,
} from './events.js';
export { describeExit } from './exit-reason.js';
export {
  type GpuAnswer,
  GpuHosting,
  type GpuLatencies,
  type GpuState,
} from './gpu-hosting.js';
export { hostFrameLimit } from './host-frame.js';
export { type GpuPort, InferenceRouter, type RouterHooks } from './inference-router.js';
export { type LifecycleState, lifecycleMachine } from './lifecycle-machine.js';
export { type PendingRequest, PendingRequests } from './pending-requests.js';
export {
  addRestart,
  type ExitKind,
  type Intensity,
  type IntensityCheck,
  shouldRestart,
} from './restart-policy.js';
export { LocalRouting, type Route, type Routing } from './routing.js';
export { type CoreOptions, RuntimeCore } from './runtime-core.js';
export {
  type Batch,
  type DeadLetter,
  EXTERNAL,
  MODEL_PREFIX,
  REJECTED_KIND,
  RUNTIME,
  Scheduler,
  type TickPlan,
} from './scheduler.js';
export type { ServiceIo, ServiceOutcome } from './service-io.js';
export { MemorySnapshotStore, type SnapshotStore } from './snapshot-store.js';
export {
  backoffTicks,
  type ChildExit,
  type Decision,
  decideExit,
  GPU_HOST,
  NO_HISTORY,
  type RestartHistory,
  type SupervisionContext,
  SupervisionTree,
  TOOL_HOST,
} from './supervision.js';
export { type ToolAnswer, type ToolCall, ToolHosting, wireOf } from './tool-hosting.js';
