// Public surface of the runtime core: decisions without IO, and the inputs and effects it speaks.
export type { ControlCommand, CoreInput, Effect, HostRef, Prepared, TimerRef } from './core-io.js';
export { type CoreOptions, RuntimeCore } from './runtime-core.js';
