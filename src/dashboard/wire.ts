// What the dashboard server and the supervisor window exchange (JSON). The UI imports these types
// only; the same messages travel over a WebSocket (headless) or Electron IPC (desktop).
import type { AgentStatus } from '../supervisor/core/events.js';

export interface TreeRow {
  kind: 'supervisor' | 'agent';
  name: string;
  depth: number;
  /** Supervisors: their strategy. */
  strategy?: string;
}

export interface AgentView extends AgentStatus {
  /** Deliveries per second, one sample per update, oldest first. */
  rate: number[];
}

export interface DeadLetterView {
  id: string;
  from: string;
  to: string;
  kind: string;
  reason: string;
  tick: number;
}

export interface ModelView {
  name: string;
  state: string;
  provider: string;
  skipped: Array<{ provider: string; reason: string }>;
  answered: number;
  errors: number;
  runs: number;
  largestBatch: number;
  /** Requests sent to the GPU host and not answered yet. */
  pending: number;
}

export interface TraceEntry {
  /** Delivery number in this session: increasing, for de-duplication and keys. */
  n: number;
  tick: number;
  from: string;
  to: string;
  kind: string;
  bytes: number;
  /** The payload as text when it is short, printable UTF-8. */
  text?: string;
}

export interface Snapshot {
  system: string;
  file: string;
  /** Increases with each snapshot; a reload starts a new `run`. */
  seq: number;
  run: number;
  tick: number;
  paused: boolean;
  /** No agent has mail: nothing runs until something comes in (an inject, a timer, a restart). */
  idle: boolean;
  ended?: { ok: boolean; reason: string };
  rows: TreeRow[];
  agents: AgentView[];
  deadLetters: { count: number; recent: DeadLetterView[] };
  models: ModelView[];
  gpu?: { state: string; pid?: number };
  /** Deliveries per second over the last interval, all agents. */
  rate: number;
  /** Deliveries since the previous snapshot (all kept ones in the first snapshot a client gets). */
  trace: TraceEntry[];
  /** Deliveries not sent to the client because too many arrived in one interval. */
  traceDropped: number;
}

/**
 * Largest payload an `inject` command may carry, in UTF-8 bytes (not characters: 800,000 "€"
 * are 2.4 MB). The window checks it before sending, the server again; the runtime then holds the
 * payload to the target's limits.maxMessageBytes.
 */
export const MAX_INJECT_BYTES = 1024 * 1024;

/**
 * Largest message a client may send, in bytes. JSON escaping can make a payload up to six times
 * longer (\u0000), so an inject of MAX_INJECT_BYTES always fits; anything larger closes the
 * client's connection (WebSocket close code 1009).
 */
export const MAX_CLIENT_MESSAGE_BYTES = 6 * MAX_INJECT_BYTES + 64 * 1024;

export type Command =
  | { op: 'pause' | 'resume' | 'step' | 'reload' }
  | { op: 'kill' | 'restart'; agent: string }
  | { op: 'reinject'; id: string }
  | { op: 'inject'; to: string; kind: string; text: string };

export type ServerMessage =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'command.result'; id: number; error?: string };

export interface ClientMessage {
  id: number;
  command: Command;
}
