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
  /** A call's final answer: the call in one line (what was asked, what came of it, how long). */
  call?: string;
}

/** A request to a model or a tool and what came of it (the agent detail's Calls). */
export interface CallView {
  /** The request's id, which its answers carry as correlation id. */
  id: string;
  agent: string;
  /** "@tool/<server>" or "@gpu/<model>"; empty for a call refused before it went out. */
  to: string;
  /** "fs/read_text_file", "generate big", "infer mlp". */
  what: string;
  /** The arguments in short: a tool's JSON, a generation's last turn, an inference's tensors. */
  args: string;
  /** The tick that released it; absent when it was refused before it went out. */
  sentTick?: number;
  answeredTick?: number;
  /** From its release to its final answer's delivery, as the window saw them. */
  ms?: number;
  /** Tokens streamed so far (generations). */
  tokens?: number;
  state: 'waiting' | 'ok' | 'error';
  answer?: string;
  /** The error's code and message. */
  error?: string;
}

export interface LogEntry {
  /** Log line number in this session: increasing, for de-duplication and keys. */
  n: number;
  tick: number;
  /** The agent, or "@gpu" for the GPU host. */
  agent: string;
  level: string;
  text: string;
}

export type TimelineKind =
  | 'crash'
  | 'restart'
  | 'backoff'
  | 'failed'
  | 'escalation'
  | 'dead-letter'
  | 'reinjected'
  | 'rejected-frame'
  | 'model'
  | 'model-failed'
  | 'gpu-crash'
  | 'kill'
  | 'control'
  /** A call to a model or a tool answered; `call-failed` with an error. */
  | 'call'
  | 'call-failed';

export interface TimelineEntry {
  n: number;
  /** Milliseconds since the session started. */
  at: number;
  /** The tick it happened at, when the event names one. */
  tick?: number;
  kind: TimelineKind;
  agent?: string;
  text: string;
}

/** One point of the charts, taken with each snapshot. */
export interface ChartSample {
  /** Seconds since the session started. */
  at: number;
  tick: number;
  /** Deliveries per second over the interval, all agents. */
  rate: number;
  /** Envelopes waiting in all mailboxes, and in the fullest one. */
  mailboxes: number;
  deepest: number;
  /** Mean rows per model run over the interval (null: no run). */
  gpuBatch: number | null;
  /** Mean time from a request's submission to its answer over the interval, ms (null: none). */
  gpuLatencyMs: number | null;
}

/** A message as the window shows it: the payload as text or JSON when printable, else hex. */
export interface MessageView {
  id: string;
  from: string;
  kind: string;
  bytes: number;
  text?: string;
  json?: boolean;
  hex?: string;
}

/** One agent in depth (the `detail` command's answer). */
export interface AgentDetail {
  name: string;
  state: string;
  /** Its lifecycle states, oldest first (the newest 50). */
  history: Array<{ tick: number; state: string; at: number }>;
  restarts: number;
  delivered: number;
  lastCrash?: string;
  /** The first envelopes waiting, in delivery order, and how many wait in all. */
  mailbox: MessageView[];
  mailboxDepth: number;
  /** Messages sent to it that enter its mailbox at the next tick boundary. */
  inTransit: MessageView[];
  limits: {
    fuel: number;
    memoryPages: number;
    mailbox: number;
    maxMessageBytes: number;
    maxSendsPerMessage: number;
    watchdogMs: number;
  };
  /** What its last batch used: the most fuel one message took, memory pages after. */
  usage?: { fuelUsed: number; memoryPages: number };
  /** Its newest log lines. */
  logs: LogEntry[];
  /** Its calls to models and tools: the newest answered ones, then those waiting. */
  calls: CallView[];
}

export interface Snapshot {
  /** This dashboard session's id (nanoid): a client that sees another one talks to a new supervisor. */
  session: string;
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
  /** Log lines since the previous snapshot (all kept ones in a client's first). */
  logs: LogEntry[];
  logsDropped: number;
  /** Timeline events since the previous snapshot (all kept ones in a client's first). */
  timeline: TimelineEntry[];
  /** Chart points: the newest one, or the whole kept history in a client's first snapshot. */
  samples: ChartSample[];
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
  /** Asks for one agent in depth; the answer carries `detail`. Changes nothing. */
  | { op: 'detail'; agent: string }
  /** Time travel (a journal opened with `troupe inspect FILE --dashboard`): the system at a tick. */
  | { op: 'seek'; tick: number; agent?: string }
  | { op: 'inject'; to: string; kind: string; text: string };

/** A recorded run opened for time travel: what the window needs before its first seek. */
export interface TravelInfo {
  system: string;
  journal: string;
  /** The last tick the replay reached (the journal's last, unless it diverged first). */
  lastTick: number;
  rows: TreeRow[];
  /** The ticks worth a look: crashes, restarts, kills, injections, escalations, answers. */
  marks: TimelineEntry[];
  /** Where to open: the first divergence, where two journals part, or tick 1. */
  openAt: number;
  /** The replay did not match the recording: where and why. */
  divergence?: { tick: number; reason: string };
  /** Compared with another journal: where they part, and how. */
  parting?: { tick: number; reason: string; other: string };
}

/** One agent at a tick of a recorded run (time travel). */
export interface AgentAtTickView {
  name: string;
  state: string;
  restarts: number;
  /** Envelopes waiting after the tick's batches were handed out and handled. */
  mailbox: MessageView[];
  mailboxDepth: number;
  /** What it was handed at this tick. */
  received: MessageView[];
  /** What it sent during this tick (released at the next one). */
  sent: MessageView[];
  /** Sent to it during this tick, entering its mailbox at the next one. */
  inTransit: MessageView[];
  logs: LogEntry[];
  /** Its state hash at the latest journal checkpoint at or before this tick. */
  stateHash?: { tick: number; hash: string };
}

/** The answer to a `seek`: the system at one tick. */
export interface TickView {
  tick: number;
  agents: AgentAtTickView[];
  /** Every delivery handed out at this tick. */
  deliveries: TraceEntry[];
  logs: LogEntry[];
}

export type ServerMessage =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'travel'; travel: TravelInfo }
  | { type: 'command.result'; id: number; error?: string; detail?: AgentDetail; at?: TickView };

export interface ClientMessage {
  id: number;
  command: Command;
}
