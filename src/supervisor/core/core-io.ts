// What goes into the runtime core and what comes out: typed inputs from the world (host frames and
// exits, the GPU host's included, timers, control commands) and the effects the executor performs for it.
// Hosts and timers are named by numbers the core hands out, so the core holds no process handles.
import type { ExitInfo } from '../../launch/index.js';
import type { Envelope, JournalRecord } from '../../protocol/index.js';
import type { Isolation } from '../config/index.js';
import type { RecordingSlice } from '../replay/index.js';
import type { RunSummary, RuntimeEvent } from './events.js';

/** A host the core asked for (a process, a thread or a place in the shared pool). */
export type HostRef = number;
export type TimerRef = number;

/** A module prepared for loading, or why it never can be. */
export type Prepared = { ok: true; path: string } | { ok: false; reason: string };

export type ControlCommand =
  | { type: 'inject'; to: string; kind: string; payload: Uint8Array; correlationId: string }
  | { type: 'reinject'; id: string }
  | { type: 'kill'; agent: string }
  | { type: 'restart'; agent: string }
  /** The agent's module changed (troupe run --watch): restart it on the new one, mailbox kept. */
  | { type: 'reload'; agent: string; path: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stop'; reason: string; ok: boolean };

export type CoreInput =
  /** The run begins (once). */
  | { type: 'start' }
  /** An agent's module was prepared (in declared order); its host can start. */
  | { type: 'prepared'; agent: string; result: Prepared }
  /** Preparing modules failed as a whole: the system cannot start. */
  | { type: 'boot.failed'; reason: string }
  | { type: 'frame'; host: HostRef; bytes: unknown }
  | { type: 'oversize'; host: HostRef; bytes: number; limit: number }
  | { type: 'exit'; host: HostRef; info: ExitInfo }
  | { type: 'timer'; timer: TimerRef }
  | { type: 'control'; command: ControlCommand }
  /** A replay: the recording through the tick last asked for (`recording.wanted`), from ReplaySource. */
  | ({ type: 'recording' } & RecordingSlice);

export type Effect =
  /** Start a host for the agent (or take a warm spare). */
  | { type: 'spawn'; host: HostRef; agent: string; isolation: Isolation; maxFrameBytes: number }
  | { type: 'send'; host: HostRef; bytes: Uint8Array }
  /**
   * End the host. `stuck`: it stopped answering or broke the protocol, so only ending all of it
   * is sure (on the shared pool, its whole thread); otherwise the agent alone may be unloaded.
   */
  | { type: 'kill'; host: HostRef; stuck?: boolean }
  /** Call back with `{ type: 'timer', timer }` after `ms`, unless disarmed first. */
  | { type: 'arm'; timer: TimerRef; ms: number }
  | { type: 'disarm'; timer: TimerRef }
  | { type: 'emit'; event: RuntimeEvent }
  /** A batch was handed out (for inspection hooks). */
  | { type: 'batch'; tick: number; agent: string; envelopes: readonly Envelope[] }
  /** Requests were released to the models and tools (for inspection hooks). */
  | { type: 'requests'; tick: number; requests: readonly Envelope[] }
  /** Every agent has started once: hosts can be started ahead of need now. */
  | { type: 'started' }
  /**
   * Start the GPU host (its `restarts`-th restart); its frames and exit come back as for any
   * host, and what it is sent goes by `send`.
   */
  | { type: 'spawnGpu'; host: HostRef; restarts: number }
  /** Start the tool host (its `restarts`-th restart); then a host like the others. */
  | { type: 'spawnTools'; host: HostRef; restarts: number }
  /**
   * A replay: the core waits to plan tick `tick` until it has the recording past it. Answer with a
   * `recording` input (ReplaySource.want), now or once the recording being followed has grown.
   */
  | { type: 'recording.wanted'; tick: number }
  /** Append a record to the run's journal (only a journaled run is given these). */
  | { type: 'record'; record: JournalRecord }
  /** The tick's records are complete: the journal's write policy may sync them now. */
  | { type: 'tickDone' }
  /** The run's last record is written: close the journal. */
  | { type: 'closeJournal' }
  /** The system is stopping: no more hosts ahead of need. */
  | { type: 'shutdown' }
  /** The run is over: every host has exited. */
  | { type: 'finished'; summary: RunSummary };
