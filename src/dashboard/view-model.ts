// Folds what a running system reports into the dashboard's state, and cuts it into snapshots at
// a steady rate (updates are coalesced: thousands of deliveries a second become a few snapshots).
import type { Envelope } from '../protocol/index.js';
import type {
  AgentStatus,
  ModelStatus,
  RuntimeEvent,
  SupervisorSpec,
  SystemSpec,
} from '../supervisor/index.js';
import type { DeadLetterView, Snapshot, TraceEntry, TreeRow } from './wire.js';

/** Rate samples kept per agent (one per snapshot). */
const RATE_SAMPLES = 60;
/** Deliveries kept for a client that connects (and sent at most per snapshot). */
const TRACE_KEPT = 2000;
const TRACE_PER_SNAPSHOT = 500;
const DEAD_LETTERS_KEPT = 200;
const TEXT_PREVIEW = 80;

export interface RuntimeView {
  tick: number;
  paused: boolean;
  agents(): AgentStatus[];
  models(): ModelStatus[];
  gpu?: { state: string; pid?: number; pending: number };
}

export class DashboardModel {
  readonly #spec: SystemSpec;
  readonly #rows: TreeRow[];
  readonly #run: number;
  #seq = 0;
  readonly #rates = new Map<string, number[]>();
  readonly #lastDelivered = new Map<string, number>();
  #lastAt: number | undefined;
  #trace: TraceEntry[] = [];
  #fresh: TraceEntry[] = [];
  #dropped = 0;
  #delivered = 0;
  readonly #deadLetters: DeadLetterView[] = [];
  #deadLetterCount = 0;
  #ended: { ok: boolean; reason: string } | undefined;
  /** No agent has mail (from the runtime's system.idle; cleared by the next delivery). */
  #idle = false;

  constructor(spec: SystemSpec, run: number) {
    this.#spec = spec;
    this.#run = run;
    this.#rows = treeRows(spec.supervisor, 0);
  }

  onEvent(event: RuntimeEvent): void {
    if (event.type === 'message.dead') {
      this.#deadLetterCount++;
      const { id, from, agent, kind, reason, tick } = event;
      this.#deadLetters.push({ id, from, to: agent, kind, reason, tick });
      if (this.#deadLetters.length > DEAD_LETTERS_KEPT) this.#deadLetters.shift();
    } else if (event.type === 'run.end') {
      this.#ended = { ok: event.ok, reason: event.reason };
    } else if (event.type === 'system.idle') {
      this.#idle = true;
    }
  }

  /** Whether the system has nothing to do until something comes in. */
  get idle(): boolean {
    return this.#idle;
  }

  /** Something came in (an inject, a kill): there may be work for the next tick. */
  wake(): void {
    this.#idle = false;
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
      const text = preview(envelope.payload);
      if (text !== undefined) entry.text = text;
      this.#fresh.push(entry);
    }
    // Keep memory flat under load: only the newest entries can ever be shown.
    if (this.#fresh.length > TRACE_KEPT * 2) {
      this.#dropped += this.#fresh.length - TRACE_KEPT;
      this.#fresh = this.#fresh.slice(-TRACE_KEPT);
    }
  }

  /**
   * The next snapshot: rates over the time since the last one, and the deliveries since then.
   * With `full` (for a client that just connected) nothing advances: rates stay as they were and
   * the trace holds every kept delivery.
   */
  snapshot(view: RuntimeView, now: number, full = false): Snapshot {
    const agents = view.agents();
    let trace: TraceEntry[];
    if (full) {
      trace = [...this.#trace, ...this.#fresh].slice(-TRACE_KEPT);
    } else {
      this.#sampleRates(agents, now);
      const fresh = this.#fresh;
      this.#fresh = [];
      this.#trace = [...this.#trace, ...fresh].slice(-TRACE_KEPT);
      trace = fresh.slice(-TRACE_PER_SNAPSHOT);
      this.#dropped += fresh.length - trace.length;
    }
    const pending = view.gpu?.pending ?? 0;
    return {
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
      trace,
      traceDropped: this.#dropped,
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
}

function treeRows(node: SupervisorSpec, depth: number): TreeRow[] {
  const rows: TreeRow[] = [{ kind: 'supervisor', name: node.name, depth, strategy: node.strategy }];
  for (const child of node.children) {
    if ('agent' in child) rows.push({ kind: 'agent', name: child.agent, depth: depth + 1 });
    else rows.push(...treeRows(child.supervisor, depth + 1));
  }
  return rows;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function preview(payload: Uint8Array | null | undefined): string | undefined {
  if (!payload || payload.length === 0 || payload.length > TEXT_PREVIEW) return undefined;
  try {
    const text = decoder.decode(payload);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    return /^[^\u0000-\u0008\u000e-\u001f]*$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}
