// Public surface of the agent side: ABI facts, module checks and the deterministic seed.

export type { LogLevel } from './abi.js';
export {
  ABI_IMPORTS,
  ABI_MODULE,
  ABI_VERSION,
  HOST_LIMITS,
  LOG_LEVELS,
  METER_VERSION,
  OUTPUT_OVERHEAD,
  REQUIRED_EXPORTS,
} from './abi.js';
export { loadMeter } from './load-meter.js';
export type { MeterOptions, MeterResult } from './meter.js';
export type { ModuleCheck } from './module-check.js';
export { checkAgentModule, compileAgentModule } from './module-check.js';
export { agentSeed, tickRandom } from './prng.js';
export type { LogRecord, RunResult, SandboxLimits } from './sandbox.js';
export { AgentSandbox, NO_LIMITS } from './sandbox.js';

/** File name of the agent host process entry, next to this module once built. */
export const AGENT_HOST_ENTRY = 'host-main.js';
