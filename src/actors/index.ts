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
export type { LogRecord } from './call-record.js';
export { writeJsBundle } from './js-bundle.js';
export { JsSandbox, MS_PER_TICK } from './js-sandbox.js';
export { loadMeter } from './load-meter.js';
export type { MeterOptions, MeterResult } from './meter.js';
export type { ModuleCheck } from './module-check.js';
export { checkAgentModule, compileAgentModule } from './module-check.js';
export { agentSeed, tickRandom } from './prng.js';
export type { RunResult, Sandbox, SandboxLimits } from './sandbox.js';
export { AgentSandbox, NO_LIMITS } from './sandbox.js';

import { JsSandbox } from './js-sandbox.js';

/** The fewest pages of memory a TypeScript or JavaScript agent can run in. */
export const JS_MIN_PAGES = JsSandbox.minPages;

/** File name of the agent host process entry, next to this module once built. */
export const AGENT_HOST_ENTRY = 'host-main.js';
