// Time travel through a journal: what a replay of it showed, kept as an index that answers "what
// did the system look like at tick N" without running anything again. The replay runs once, when
// the journal is opened; every delivery, state change, log line and event is noted by tick, and
// every `keyframeEvery` ticks the waiting mailboxes are copied whole. A seek to tick N then reads
// the deliveries between N and the next keyframe, and that keyframe: a bounded amount of work,
// however long the journal (bench/travel.mjs measures it on 100,000 ticks). Pure: no IO.
import type { Envelope } from '../protocol/index.js';
import type { RuntimeEvent } from '../supervisor/index.js';
import { messageView } from './message-view.js';
import { timelineItem } from './timeline.js';
import type { AgentAtTickView, LogEntry, MessageView, TimelineEntry } from './wire.js';

/** A message seen in the replay: its view, its addressee and the tick it entered a mailbox at. */
export interface Seen {
  view: MessageView;
  to: string;
  /** The tick it was released into its mailbox at (its ordering key's tick). */
  tick: number;
}

export class TravelIndex {
  readonly #keyframeEvery: number;
  readonly #agents: readonly string[];
  /** Every delivery in order: the tick it was handed out at, and the message. */
  readonly #deliveries: Array<{ at: number; seen: Seen }> = [];
  /** Waiting mailboxes copied at these ticks (ascending), and at the end. */
  readonly #keyframes: Array<{ tick: number; waiting: Seen[] }> = [];
  /** Messages by the tick they were released at. */
  readonly #byRelease = new Map<number, Map<string, Seen>>();
  readonly #states = new Map<string, Array<{ tick: number; state: string }>>();
  readonly #logs = new Map<number, LogEntry[]>();
  #logCount = 0;
  readonly #marks: TimelineEntry[] = [];
  readonly #checkpoints: Array<{ tick: number; hashes: Map<string, string> }> = [];
  #lastTick = 0;

  constructor(agents: readonly string[], keyframeEvery = 1000) {
    this.#agents = [...agents].sort();
    this.#keyframeEvery = keyframeEvery;
  }

  get lastTick(): number {
    return this.#lastTick;
  }

  get agents(): readonly string[] {
    return this.#agents;
  }

  /** The ticks worth a look: crashes, restarts, kills, injections, escalations, answers. */
  get marks(): readonly TimelineEntry[] {
    return this.#marks;
  }

  // --- recording (from the replay's hooks) ---

  onBatch(tick: number, agent: string, envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      const seen = this.#seen(envelope, agent);
      this.#deliveries.push({ at: tick, seen });
      if (seen.view.from.startsWith('@gpu/'))
        this.mark(tick, 'model', agent, `answer from ${seen.view.from}`);
      if (seen.view.from === '@external')
        this.mark(tick, 'control', agent, `injected ${seen.view.id} (${seen.view.kind})`);
    }
  }

  onEvent(event: RuntimeEvent): void {
    if (event.type === 'tick') this.#lastTick = Math.max(this.#lastTick, event.tick);
    if (event.type === 'agent.state') {
      const states = this.#states.get(event.agent) ?? [];
      states.push({ tick: event.tick, state: event.state });
      this.#states.set(event.agent, states);
    }
    if (event.type === 'agent.log') {
      const { agent, level, text, tick } = event;
      const lines = this.#logs.get(tick) ?? [];
      lines.push({ n: ++this.#logCount, tick, agent, level, text });
      this.#logs.set(tick, lines);
    }
    const item = timelineItem(event);
    if (item && item.kind !== 'control') {
      this.#marks.push({ n: this.#marks.length + 1, at: 0, ...item, tick: item.tick ?? this.#lastTick });
    }
  }

  /** A moment the replay marks by itself (a kill from the journal, say). */
  mark(tick: number, kind: TimelineEntry['kind'], agent: string | undefined, text: string): void {
    this.#marks.push({ n: this.#marks.length + 1, at: 0, tick, kind, ...(agent ? { agent } : {}), text });
  }

  /** A tick was handed out; `waiting` reads the mailboxes when a keyframe is due. */
  tickDispatched(
    tick: number,
    waiting: () => Array<{ agent: string; envelopes: readonly Envelope[] }>,
  ): void {
    this.#lastTick = Math.max(this.#lastTick, tick);
    if (tick % this.#keyframeEvery === 0) this.keyframe(tick, waiting());
  }

  /** The mailboxes as they are at `tick` (the replay's end takes one too). */
  keyframe(tick: number, waiting: ReadonlyArray<{ agent: string; envelopes: readonly Envelope[] }>): void {
    const seen = waiting.flatMap(({ agent, envelopes }) =>
      envelopes.map((envelope) => this.#seen(envelope, agent)),
    );
    if (this.#keyframes.at(-1)?.tick === tick) this.#keyframes.pop();
    this.#keyframes.push({ tick, waiting: seen });
  }

  checkpoint(tick: number, agents: readonly string[], hashes: readonly Uint8Array[]): void {
    const map = new Map(agents.map((agent, i) => [agent, Buffer.from(hashes[i] ?? []).toString('hex')]));
    this.#checkpoints.push({ tick, hashes: map });
  }

  #seen(envelope: Envelope, to: string): Seen {
    const view = messageView(envelope);
    const tick = Number(envelope.tick ?? 0);
    let released = this.#byRelease.get(tick);
    if (!released) {
      released = new Map();
      this.#byRelease.set(tick, released);
    }
    const known = released.get(view.id);
    if (known) return known;
    const seen = { view, to, tick };
    released.set(view.id, seen);
    return seen;
  }

  // --- seeking ---

  /** Every agent at tick N (details for `detailed` only, or all when not given). */
  at(tick: number, detailed?: string): AgentAtTickView[] {
    const waiting = this.#waiting(tick);
    const received = this.deliveriesAt(tick);
    const next = [...(this.#byRelease.get(tick + 1)?.values() ?? [])];
    return this.#agents.map((name) => {
      const mailbox = waiting.filter((seen) => seen.to === name).map((seen) => seen.view);
      const full = detailed === undefined || detailed === name;
      const history = this.#states.get(name) ?? [];
      const state = lastAtOrBefore(history, tick)?.state ?? 'starting';
      const restarts = history.filter((entry) => entry.tick <= tick && entry.state === 'restarting').length;
      const view: AgentAtTickView = {
        name,
        state,
        restarts,
        mailbox: full ? mailbox.slice(0, 200) : [],
        mailboxDepth: mailbox.length,
        received: received.filter((seen) => seen.to === name).map((seen) => seen.view),
        sent: full ? next.filter((seen) => seen.view.from === name).map((seen) => seen.view) : [],
        inTransit: full ? next.filter((seen) => seen.to === name).map((seen) => seen.view) : [],
        logs: full ? this.logsAt(tick).filter((entry) => entry.agent === name) : [],
      };
      const checkpoint = lastAtOrBefore(this.#checkpoints, tick);
      const hash = checkpoint?.hashes.get(name);
      if (full && checkpoint && hash) view.stateHash = { tick: checkpoint.tick, hash };
      return view;
    });
  }

  /** Every log line of tick N. */
  logsAt(tick: number): LogEntry[] {
    return this.#logs.get(tick) ?? [];
  }

  /** Deliveries handed out at exactly this tick, in order. */
  deliveriesAt(tick: number): Seen[] {
    const out: Seen[] = [];
    for (let i = firstAtOrAfter(this.#deliveries, tick); i < this.#deliveries.length; i++) {
      const delivery = this.#deliveries[i] as { at: number; seen: Seen };
      if (delivery.at !== tick) break;
      out.push(delivery.seen);
    }
    return out;
  }

  /**
   * What waits in the mailboxes after tick N: of the messages released by N, those handed out
   * after N (up to the next keyframe) or still waiting at that keyframe. A message handed out
   * more than once (its batch crashed) waited between the two.
   */
  #waiting(tick: number): Seen[] {
    const keyframe = this.#keyframes.find((frame) => frame.tick > tick) ?? this.#keyframes.at(-1);
    const until = keyframe?.tick ?? this.#lastTick;
    const found = new Map<Seen, true>();
    for (let i = firstAtOrAfter(this.#deliveries, tick + 1); i < this.#deliveries.length; i++) {
      const delivery = this.#deliveries[i] as { at: number; seen: Seen };
      if (delivery.at > until) break;
      if (delivery.seen.tick <= tick) found.set(delivery.seen, true);
    }
    for (const seen of keyframe?.waiting ?? []) if (seen.tick <= tick) found.set(seen, true);
    return [...found.keys()].sort((a, b) => a.tick - b.tick);
  }
}

/** The index of the first delivery handed out at `tick` or later (binary search). */
function firstAtOrAfter(deliveries: ReadonlyArray<{ at: number }>, tick: number): number {
  let low = 0;
  let high = deliveries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((deliveries[middle] as { at: number }).at < tick) low = middle + 1;
    else high = middle;
  }
  return low;
}

function lastAtOrBefore<T extends { tick: number }>(entries: readonly T[], tick: number): T | undefined {
  let found: T | undefined;
  for (const entry of entries) {
    if (entry.tick > tick) break;
    found = entry;
  }
  return found;
}
