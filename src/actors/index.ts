// Public surface of the agent side: the sandboxes and module checks. The ABI's facts and the
// deterministic seeds are in src/abi (both sides import them from there); the fuel meter, which
// only the supervisor applies, is in src/supervisor/modules.

export type { LogRecord } from './call-record.js';
export { writeJsBundle } from './js-bundle.js';
export { JsSandbox, MS_PER_TICK } from './js-sandbox.js';
export type { ModuleCheck } from './module-check.js';
export { checkAgentModule, compileAgentModule } from './module-check.js';
export type { RunResult, Sandbox, SandboxLimits } from './sandbox.js';
export { AgentSandbox, NO_LIMITS } from './sandbox.js';

import { JsSandbox } from './js-sandbox.js';

/** The fewest pages of memory a TypeScript or JavaScript agent can run in. */
export const JS_MIN_PAGES = JsSandbox.minPages;

/** File name of the agent host process entry, next to this module once built. */
export const AGENT_HOST_ENTRY = 'host-main.js';
