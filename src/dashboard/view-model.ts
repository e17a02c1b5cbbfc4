// Folds what a running system reports into the dashboard's state, and cuts it into snapshots at
// a steady rate (updates are coalesced: thousands of deliveries a second become a few snapshots).
import type { Envelope, Output } from '../protocol/index.js';
import type {
  AgentLimits,
  AgentStatus,
  ModelStatus,
  RuntimeEvent,
  SupervisorSpec,
  SystemSpec,
} from '../supervisor/index.js';
import { CallTracker, callSummary } from './calls.js';
import { DeltaLog } from './delta-log.js';
import { messageView, printable } from './message-view.js';
import { timelineItem } from './timeline.js';
import type {
  AgentDetail,
  ChartSample,
  DeadLetterView,
  LogEntry,
  Snapshot,
  TimelineEntry,
  TraceEntry,
  TreeRow,
} from './wire.js';

/** Rate samples kept per agent (one per snapshot). */
const RATE_SAMPLES = 60;
/** Chart points kept (one per snapshot: 10 minutes at the default 4 a second). */
const CHART_SAMPLES = 2400;
/** Deliveries kept for a client that connects (and sent at most per snapshot). */
const TRACE_KEPT = 2000;
const TRACE_PER_SNAPSHOT = 500;
const LOGS_KEPT = 5000;
const LOGS_PER_SNAPSHOT = 1000;
const TIMELINE_KEPT = 1000;
const DEAD_LETTERS_KEPT = 200;
const STATES_KEPT = 50;
const DETAIL_MESSAGES = 50;
const TEXT_PREVIEW = 80;

export interface RuntimeView {
  tick: number;
  paused: boolean;
  agents(): AgentStatus[];
  models(): ModelStatus[];
  gpu?: { state: string; pid?: number; pending: number };
  /** Per model, answers since the last call and their total latency in ms. */
  latencies?(): Map<string, { answers: number; totalMs: number }>;
  limits?(agent: string): AgentLimits | undefined;
}

export class DashboardModel {
  readonly #spec: SystemSpec;
  readonly #rows: TreeRow[];
  readonly #run: number;
  readonly #session: string;
  readonly #started = performance.now();
  #seq = 0;
  readonly #rates = new Map<string, number[]>();
  readonly #lastDelivered = new Map<string, number>();
  #lastAt: number | undefined;
  #delivered = 0;
  readonly #trace = new DeltaLog<TraceEntry>(TRACE_KEPT, TRACE_PER_SNAPSHOT);
  readonly #logs = new DeltaLog<LogEntry>(LOGS_KEPT, LOGS_PER_SNAPSHOT);
  #logCount = 0;
  readonly #timeline = new DeltaLog<TimelineEntry>(TIMELINE_KEPT, TIMELINE_KEPT);
  #timelineCount = 0;
  readonly #samples: ChartSample[] = [];
  /** Model rows and runs at the last sample, for the mean batch over the interval. */
  #gpuCounts = { rows: 0, runs: 0 };
  readonly #states = new Map<string, Array<{ tick: number; state: string; at: number }>>();
  readonly #deadLetters: DeadLetterView[] = [];
  #deadLetterCount = 0;
  #ended: { ok: boolean; reason: string } | undefined;
  /** No agent has mail (from the runtime's system.idle; cleared by the next delivery). */
  #idle = false;
  readonly #calls = new CallTracker();

  constructor(spec: SystemSpec, run: number, session = '') {
    this.#spec = spec;
    this.#run = run;
    this.#session = session;
    this.#rows = treeRows(spec.supervisor, 0);
  }

  onEvent(event: RuntimeEvent): void {
    const item = timelineItem(event);
    if (item) this.#timeline.push({ n: ++this.#timelineCount, at: this.#now(), ...item });
    if (event.type === 'message.dead') {
      this.#deadLetterCount++;
      const { id, from, agent, kind, reason, tick } = event;
      this.#deadLetters.push({ id, from, to: agent, kind, reason, tick });
      if (this.#deadLetters.length > DEAD_LETTERS_KEPT) this.#deadLetters.shift();
    } else if (event.type === 'agent.log') {
      const { agent, level, text, tick } = event;
      this.#logs.push({ n: ++this.#logCount, tick, agent, level, text });
    } else if (event.type === 'gpu.log') {
      const { level, text } = event;
      this.#logs.push({ n: ++this.#logCount, tick: this.#tick, agent: '@gpu', level, text });
    } else if (event.type === 'agent.state') {
      const states = this.#states.get(event.agent) ?? [];
      states.push({ tick: event.tick, state: event.state, at: this.#now() });
      if (states.length > STATES_KEPT) states.shift();
      this.#states.set(event.agent, states);
    } else if (event.type === 'tick') {
      this.#tick = event.tick;
    } else if (event.type === 'run.end') {
      this.#ended = { ok: event.ok, reason: event.reason };
    } else if (event.type === 'system.idle') {
      this.#idle = true;
    }
  }

  #tick = 0;

  #now(): number {
    return Math.round(performance.now() - this.#started);
  }

  /** Whether the system has nothing to do until something comes in. */
  get idle(): boolean {
    return this.#idle;
  }

  /** Something came in (an inject, a kill): there may be work for the next tick. */
  wake(): void {
    this.#idle = false;
  }

  /** Requests a tick released to the models and tools. */
  onRequests(tick: number, requests: readonly Envelope[]): void {
    this.#calls.sent(tick, requests, this.#now());
  }

  onBatch(tick: number, agent: string, envelopes: readonly Envelope[]): void {
    this.#idle = false;
    for (const envelope of envelopes) {
      const entry: TraceEntry = {
        n: ++this.#delivered,
        tick,
        from: envelope.from ?? '',
        to: agent,
        kind: envelope.kind ?? '',
        bytes: envelope.payload?.length ?? 0,
      };
      const text = printable(entry.kind, envelope.payload, TEXT_PREVIEW);
      if (text !== undefined) entry.text = text;
      const call = this.#calls.delivered(tick, agent, envelope, this.#now());
      if (call) {
        entry.call = callSummary(call);
        const kind = call.state === 'error' ? 'call-failed' : 'call';
        this.#timeline.push({
          n: ++this.#timelineCount,
          at: this.#now(),
          kind,
          tick,
          agent,
          text: entry.call,
        });
      }
      this.#trace.push(entry);
    }
  }

  /** One agent in depth: its states over time, what waits for it, its limits and their use, its logs. */
  detail(
    agent: string,
    mailbox: { queued: readonly Envelope[]; inTransit: ReadonlyArray<{ from: string; output: Output }> },
    view: RuntimeView,
  ): AgentDetail {
    const status = view.agents().find((candidate) => candidate.name === agent);
    const limits = view.limits?.(agent);
    return {
      name: agent,
      state: status?.state ?? 'unknown',
      history: [...(this.#states.get(agent) ?? [])],
      restarts: status?.restarts ?? 0,
      delivered: status?.delivered ?? 0,
      ...(status?.lastCrash ? { lastCrash: status.lastCrash } : {}),
      mailbox: mailbox.queued.slice(0, DETAIL_MESSAGES).map(messageView),
      mailboxDepth: mailbox.queued.length,
      inTransit: mailbox.inTransit
        .slice(0, DETAIL_MESSAGES)
        // Not stamped yet: its id is given when the next tick releases it.
        .map(({ from, output }) => ({ ...messageView({ ...output, from }), id: `${from}#…` })),
      limits: {
        fuel: limits?.fuel ?? 0,
        memoryPages: limits?.memoryPages ?? 0,
        mailbox: limits?.mailbox ?? 0,
        maxMessageBytes: limits?.maxMessageBytes ?? 0,
        maxSendsPerMessage: limits?.maxSendsPerMessage ?? 0,
        watchdogMs: limits?.watchdogMs ?? 0,
      },
      ...(status?.usage ? { usage: status.usage } : {}),
      logs: this.#logs.filter((entry) => entry.agent === agent, DETAIL_MESSAGES),
      calls: this.#calls.of(agent),
    };
  }

  /**
   * The next snapshot: rates over the time since the last one, and the deliveries, log lines and
   * events since then. With `full` (for a client that just connected) nothing advances: rates stay
   * as they were and the lists hold every kept entry.
   */
  snapshot(view: RuntimeView, now: number, full = false): Snapshot {
    const agents = view.agents();
    if (!full) {
      this.#sampleRates(agents, now);
      this.#sampleCharts(view, agents, now);
    }
    const pending = view.gpu?.pending ?? 0;
    return {
      session: this.#session,
      system: this.#spec.name,
      file: this.#spec.file,
      seq: ++this.#seq,
      run: this.#run,
      tick: view.tick,
      paused: view.paused,
      idle: this.#idle,
      ...(this.#ended ? { ended: this.#ended } : {}),
      rows: this.#rows,
      agents: agents.map((agent) => ({ ...agent, rate: [...(this.#rates.get(agent.name) ?? [])] })),
      deadLetters: { count: this.#deadLetterCount, recent: [...this.#deadLetters] },
      models: view.models().map((model) => ({ ...model, pending })),
      ...(view.gpu ? { gpu: { state: view.gpu.state, ...(view.gpu.pid ? { pid: view.gpu.pid } : {}) } } : {}),
      rate: this.#total,
      trace: full ? this.#trace.all() : this.#trace.cut(),
      traceDropped: this.#trace.dropped,
      logs: full ? this.#logs.all() : this.#logs.cut(),
      logsDropped: this.#logs.dropped,
      timeline: full ? this.#timeline.all() : this.#timeline.cut(),
      samples: full ? [...this.#samples] : this.#samples.slice(-1),
    };
  }

  #total = 0;

  #sampleRates(agents: ReadonlyArray<{ name: string; delivered: number }>, now: number): void {
    const seconds = this.#lastAt === undefined ? 0 : (now - this.#lastAt) / 1000;
    this.#lastAt = now;
    this.#total = 0;
    for (const agent of agents) {
      const before = this.#lastDelivered.get(agent.name) ?? agent.delivered;
      const rate = seconds > 0 ? Math.max(0, (agent.delivered - before) / seconds) : 0;
      this.#total += rate;
      const samples = this.#rates.get(agent.name) ?? [];
      samples.push(rate);
      if (samples.length > RATE_SAMPLES) samples.shift();
      this.#rates.set(agent.name, samples);
      this.#lastDelivered.set(agent.name, agent.delivered);
    }
  }

  #sampleCharts(view: RuntimeView, agents: readonly AgentStatus[], now: number): void {
    let rows = 0;
    let runs = 0;
    for (const model of view.models()) {
      rows += model.answered + model.errors;
      runs += model.runs;
    }
    const ran = runs - this.#gpuCounts.runs;
    const gpuBatch = ran > 0 ? (rows - this.#gpuCounts.rows) / ran : null;
    this.#gpuCounts = { rows, runs };
    let answers = 0;
    let totalMs = 0;
    for (const latency of view.latencies?.().values() ?? []) {
      answers += latency.answers;
      totalMs += latency.totalMs;
    }
    this.#samples.push({
      at: Math.round(now - this.#started) / 1000,
      tick: view.tick,
      rate: this.#total,
      mailboxes: agents.reduce((sum, agent) => sum + agent.mailbox, 0),
      deepest: agents.reduce((most, agent) => Math.max(most, agent.mailbox), 0),
      gpuBatch,
      gpuLatencyMs: answers > 0 ? totalMs / answers : null,
    });
    if (this.#samples.length > CHART_SAMPLES) this.#samples.shift();
  }
}

/** The supervision tree as the window lists it. */
export function treeRows(node: SupervisorSpec, depth = 0): TreeRow[] {
  const rows: TreeRow[] = [{ kind: 'supervisor', name: node.name, depth, strategy: node.strategy }];
  for (const child of node.children) {
    if ('agent' in child) rows.push({ kind: 'agent', name: child.agent, depth: depth + 1 });
    else rows.push(...treeRows(child.supervisor, depth + 1));
  }
  return rows;
}
