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

/** `none`: this system runs no such host; `running` from its start (what it serves may still load). */
export type ServiceState = 'none' | 'running' | 'crashed' | 'stopping' | 'stopped';

/** What an exit of the current host came to, before the part deals with what it held. */
export type ServiceExit = 'stopped' | 'restart' | 'died';

/**
 * The lifecycle both service hosts share: started once, killed (a replayed death) or restarted
 * (the tree decided; after killing it when it is up), stopped at shutdown with a timeout after
 * which it is killed. What is sent to start it, and what it held, are its part's.
 */
export class ServiceLifecycle {
  readonly #io: ServiceIo;
  /** Starts a host under this number (its `restarts`-th restart): its part sends what it needs. */
  readonly #spawn: (host: HostRef, restarts: number) => void;
  readonly #stopTimeoutMs: number;
  #state: ServiceState;
  #host: HostRef | undefined;
  #restarts = 0;
  /** Killed to be restarted (a restart decided while it was up): started again on its exit. */
  #restartOnExit = false;
  #stopTimer: TimerRef | undefined;

  constructor(
    enabled: boolean,
    io: ServiceIo,
    options: { spawn: (host: HostRef, restarts: number) => void; stopTimeoutMs: number },
  ) {
    this.#io = io;
    this.#spawn = options.spawn;
    this.#stopTimeoutMs = options.stopTimeoutMs;
    this.#state = enabled ? 'stopped' : 'none';
  }

  get state(): ServiceState {
    return this.#state;
  }

  get enabled(): boolean {
    return this.#state !== 'none';
  }

  /** A host runs or will (not stopping, not stopped, not absent). */
  get live(): boolean {
    return !['none', 'stopping', 'stopped'].includes(this.#state);
  }

  get host(): HostRef | undefined {
    return this.#host;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** Whether this host is the current one (what an old one says is dropped). */
  owns(host: HostRef): boolean {
    return host === this.#host;
  }

  start(): void {
    if (this.#state === 'stopped') this.respawn();
  }

  /** Kills the host as a crash would (replaying a recorded death). Whether there was one to kill. */
  kill(): boolean {
    if (this.#host === undefined || !this.live) return false;
    this.#io.push({ type: 'kill', host: this.#host });
    return true;
  }

  /** Starts the host again (the tree decided so): at once when it is down, else after killing it. */
  restart(): void {
    if (!this.live) return;
    this.#restarts++;
    if (this.#host !== undefined) {
      this.#restartOnExit = true;
      this.#io.push({ type: 'kill', host: this.#host });
    } else {
      this.respawn();
    }
  }

  /** A new host, under a new number. */
  respawn(): void {
    const host = this.#io.newHost();
    this.#host = host;
    this.#state = 'running';
    this.#spawn(host, this.#restarts);
  }

  /** Ends the host at shutdown with `stopFrame`, killed after the timeout; whether its exit is still to come. */
  stop(stopFrame: Uint8Array): boolean {
    if (!this.enabled || this.#state === 'stopped') return false;
    if (this.#state === 'stopping') return true;
    if (this.#host === undefined) {
      this.#state = 'stopped';
      return false;
    }
    this.#state = 'stopping';
    this.#stopTimer = this.#io.arm(this.#stopTimeoutMs);
    this.#io.push({ type: 'send', host: this.#host, bytes: stopFrame });
    return true;
  }

  /** Whether the timer is this host's (the stop timeout, which kills it). */
  onTimer(timer: TimerRef): boolean {
    if (timer !== this.#stopTimer) return false;
    this.#stopTimer = undefined;
    if (this.#host !== undefined) this.#io.push({ type: 'kill', host: this.#host });
    return true;
  }

  /** It broke its protocol or a bound: reported, and killed. */
  fault(host: HostRef, name: string, reason: string): void {
    this.#io.emit({ type: 'frame.rejected', agent: name, reason });
    this.#io.push({ type: 'kill', host });
  }

  /**
   * The current host exited: it was stopped, or it is to be started again (`respawn()`, once its
   * part has dealt with what it held), or it died (crashed; the supervision tree decides).
   */
  exited(): ServiceExit {
    this.#host = undefined;
    if (this.#state === 'stopping') {
      this.#state = 'stopped';
      if (this.#stopTimer !== undefined) this.#io.disarm(this.#stopTimer);
      this.#stopTimer = undefined;
      return 'stopped';
    }
    if (this.#restartOnExit) {
      this.#restartOnExit = false;
      return 'restart';
    }
    this.#state = 'crashed';
    return 'died';
  }
}
