// Public surface of the facts both sides of the ABI share: the agent host and the supervisor's
// core import them from here, so the core loads no sandbox (QuickJS, binaryen) and no file system.
// The ABI's names, limits and constants (abi.ts), and the deterministic seeds and random streams
// (prng.ts).
export type { LogLevel } from './abi.js';
export {
  ABI_IMPORTS,
  ABI_MODULE,
  ABI_VERSION,
  BLOCK_FIELDS,
  FATAL,
  FUEL_GLOBAL,
  GLOBAL_EXPORT_PREFIX,
  HANDLE_CONTINUE,
  HANDLE_FINISHED,
  HOST_LIMITS,
  LOG_LEVELS,
  METER_VERSION,
  OUTPUT_OVERHEAD,
  REQUIRED_EXPORTS,
  RESERVED_PREFIX,
  SEND_MALFORMED,
  SEND_OK,
  START_EXPORT,
} from './abi.js';
export { agentSeed, hashString, messageRandom, tickRandom } from './prng.js';
