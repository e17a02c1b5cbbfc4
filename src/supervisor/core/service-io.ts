// What the parts that drive service hosts (the GPU host, the tool host) need of the core, and what
// such a host's exit comes to.
import type { Effect, HostRef, TimerRef } from './core-io.js';
import type { RuntimeEvent } from './events.js';

/** What a service host's part (GPU host, tool host) needs of the core: a place for effects, host and timer numbers. */
export interface ServiceIo {
  push(effect: Effect): void;
  emit(event: RuntimeEvent): void;
  newHost(): HostRef;
  /** Arms a timer that comes back to `onTimer`. */
  arm(ms: number): TimerRef;
  disarm(timer: TimerRef): void;
}

/** What an exit of a service host came to. */
export type ServiceOutcome =
  /** It died (it was not stopped, nor killed to be restarted): the supervision tree decides. */
  | { type: 'died'; reason: string }
  /** It ended at shutdown. */
  | { type: 'stopped' };
