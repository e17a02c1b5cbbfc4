// Deterministic mailboxes and ticks (DESIGN §4); where an envelope goes is routing.ts's call. No
// IO: the supervisor feeds it reports in any order and it always hands out the same batches,
// because order comes from keys, not arrival.
import {
  type Envelope,
  encodeInferenceError,
  encodeToolError,
  envelopeId,
  INFER_ERROR_KIND,
  type Output,
  ownBytes,
  TOOL_ERROR_KIND,
  TOOL_PREFIX,
  type WithWire,
} from '../../protocol/index.js';
import type { AgentSpec, MailboxOverflow, ModelType } from '../config/index.js';
import { Queue } from './queue.js';
import { LocalRouting, MODEL_PREFIX, type Route, type Routing } from './routing.js';
import { Staging, type Stamped } from './staging.js';

/** The source name of messages that enter from outside (UI, CLI, API); it ranks before every agent. */
export const EXTERNAL = '@external';
/** The source name of the runtime's own notices to agents, e.g. a rejected message. */
export const RUNTIME = '@troupe';
/** Kind of the notice an agent gets back when its message was rejected (payload: the reason). */
export const REJECTED_KIND = 'troupe/rejected';
export { MODEL_PREFIX };

const EMPTY = new Uint8Array(0);

export interface DeadLetter {
  tick: number;
  envelope: Envelope;
  reason: string;
}

export interface Batch {
  agent: string;
  envelopes: Envelope[];
}

export interface TickPlan {
  /** The tick the batches belong to; unchanged when there are no batches. */
  tick: number;
  batches: Batch[];
  deadLetters: DeadLetter[];
  /** Envelopes refused by a full mailbox whose policy is "reject": sent back to their senders. */
  rejected: DeadLetter[];
  /** Requests released at this tick, in key order: for the GPU host (models) and the tool host (tools). */
  requests: Envelope[];
}

interface Receiver {
  mailbox: number;
  overflow: MailboxOverflow;
}

export class Scheduler {
  readonly #maxBatch: number;
  readonly #retryLimit: number;
  /** Sender ranks: the second part of every ordering key. */
  readonly #ranks = new Map<string, number>();
  readonly #routing: Routing;
  readonly #receivers = new Map<string, Receiver>();
  /** Agent names in rank order (stable: sorted by name). */
  readonly #ranked: string[];
  readonly #mailboxes = new Map<string, Queue<Envelope>>();
  /** Failed attempts, kept only for envelopes whose handling crashed their agent. */
  readonly #attempts = new WeakMap<Envelope, number>();
  readonly #closed = new Map<string, string>();
  /** Outputs waiting for a tick boundary (staging.ts): now or delayed. */
  readonly #staging = new Staging();
  readonly #inflight = new Map<string, Envelope[]>();
  /** Agents handed one envelope per tick since a batch of several stalled (see stalled()). */
  readonly #singles = new Set<string>();
  #tick = 0;

  constructor(
    agents: readonly AgentSpec[],
    options: {
      maxBatch: number;
      retryLimit: number;
      models?: ReadonlyArray<{ name: string; type: ModelType }>;
      /** Tool servers' names (they answer from "@tool/<server>"). */
      tools?: readonly string[];
      /** Where envelopes go. Default: every agent and model here (routing.ts). */
      routing?: Routing;
    },
  ) {
    this.#maxBatch = options.maxBatch;
    this.#retryLimit = options.retryLimit;
    this.#routing = options.routing ?? new LocalRouting(agents, options.models ?? [], options.tools ?? []);
    this.#ranked = agents.map((agent) => agent.name).sort();
    this.#ranked.forEach((name, rank) => {
      const spec = agents.find((agent) => agent.name === name) as AgentSpec;
      this.#ranks.set(name, rank);
      this.#receivers.set(name, { mailbox: spec.limits.mailbox, overflow: spec.limits.overflow });
      this.#mailboxes.set(name, new Queue());
    });
    // Models answer from "@gpu/<model>"; they rank before the runtime, in name order.
    const models = (options.models ?? []).map((model) => model.name).sort();
    for (const [index, model] of models.entries())
      this.#ranks.set(`${MODEL_PREFIX}${model}`, index - models.length - 2);
    // Tool servers answer from "@tool/<server>"; they rank before the models, in name order.
    const tools = [...(options.tools ?? [])].sort();
    for (const [index, server] of tools.entries())
      this.#ranks.set(`${TOOL_PREFIX}${server}`, index - tools.length - models.length - 2);
    this.#ranks.set(RUNTIME, -2);
    this.#ranks.set(EXTERNAL, -1);
  }

  /** The last tick handed out. */
  get tick(): number {
    return this.#tick;
  }

  /** Outputs waiting for the next release. */
  get staged(): boolean {
    return this.#staging.any;
  }

  /** Whether planning tick `next` would release anything: outputs staged, or timers due. */
  waiting(next: number): boolean {
    const timer = this.#staging.nextTimer;
    return this.#staging.any || (timer !== undefined && timer <= next);
  }

  /**
   * The sequence number the agent's next output will be stamped with (its id is "<agent>#<n>"):
   * outputs already staged take theirs first, in order.
   */
  nextSeq(agent: string): number {
    return this.#staging.nextSeq(agent);
  }

  /** The envelopes waiting in the agent's mailbox, in delivery order. */
  mailbox(agent: string): readonly Envelope[] {
    return this.#mailboxes.get(agent)?.peek() ?? [];
  }

  /** Outputs sent to the agent that enter its mailbox at the next tick boundary, by sender. */
  inTransit(agent: string): Array<{ from: string; output: Output }> {
    return this.staging().filter(({ output }) => output.to === agent);
  }

  /** The agent's batch in flight (empty when it holds none). */
  inflight(agent: string): readonly Envelope[] {
    return this.#inflight.get(agent) ?? [];
  }

  /** Every output waiting for the next tick boundary, by sender, whatever its address. */
  staging(): Array<{ from: string; output: Output }> {
    return this.#staging.all();
  }

  /** Envelopes in the agent's batch in flight (0 when it holds none). */
  inflightSize(agent: string): number {
    return this.#inflight.get(agent)?.length ?? 0;
  }

  mailboxDepth(agent: string): number {
    return this.#mailboxes.get(agent)?.length ?? 0;
  }

  /**
   * Outputs of `source` (an agent's init or tick, or EXTERNAL) to release at the next tick (or
   * later, when delayed). Sequence numbers are given now, in send order, so the ids an SDK
   * reports are the ids the envelopes get, delayed ones included.
   */
  stage(source: string, outputs: readonly Output[]): void {
    if (outputs.length > 0) this.#staging.add(source, outputs, this.#tick);
  }

  /**
   * An input from outside (an injection, a model's answer, a re-sent dead letter) from `source`,
   * for the next tick: numbered at the release, after what the source itself sent by then.
   */
  enter(source: string, output: Output): void {
    this.#staging.enter(source, output);
  }

  /** The tick the earliest timer is due at, if any waits. */
  get nextTimer(): number | undefined {
    return this.#staging.nextTimer;
  }

  /** The payload bytes `source` has staged for the next tick (EXTERNAL: injections waiting). */
  stagedBytes(source: string): number {
    return this.#staging.bytes(source);
  }

  /**
   * Starts the next tick: releases staged outputs in (source rank, send order), then gives each
   * eligible agent with mail one batch in key order.
   */
  plan(eligible: (agent: string) => boolean): TickPlan {
    if (this.#inflight.size > 0) throw new Error(`tick ${this.#tick} is still running`);
    const next = this.#tick + 1;
    this.#staging.releaseTimers(next);
    const { deadLetters, rejected, requests } = this.#release(next);
    const batches: Batch[] = [];
    for (const agent of this.#ranked) {
      const mailbox = this.#mailboxes.get(agent) as Queue<Envelope>;
      if (mailbox.length === 0 || !eligible(agent)) continue;
      // After a stall of a batch of several, one envelope at a time until the culprit is known.
      const envelopes = mailbox.take(this.#singles.has(agent) ? 1 : this.#maxBatch);
      this.#inflight.set(agent, envelopes);
      batches.push({ agent, envelopes });
    }
    if (batches.length > 0) this.#tick = next;
    return { tick: this.#tick, batches, deadLetters, rejected, requests };
  }

  /**
   * The agent handled its batch, or the first `handled` envelopes of it when it finished early;
   * the rest go back to its mailbox. Its outputs go out at the next tick.
   */
  complete(agent: string, outputs: readonly Output[], handled?: number): void {
    const envelopes = this.#inflight.get(agent);
    this.#inflight.delete(agent);
    this.#singles.delete(agent);
    if (envelopes && handled !== undefined && handled < envelopes.length) {
      this.#mailboxes.get(agent)?.prepend(envelopes.slice(handled));
    }
    this.stage(agent, outputs);
  }

  /**
   * The agent crashed during its batch: the batch goes back to the front of its mailbox. When the
   * crash came while handling envelopes[index], that envelope is charged an attempt and, past the
   * retry limit, dead-lettered with the reason. `index` is undefined when the cause was external.
   */
  fail(agent: string, index: number | undefined, reason: string): DeadLetter[] {
    const envelopes = this.#inflight.get(agent);
    if (!envelopes) return [];
    this.#inflight.delete(agent);
    const deadLetters: DeadLetter[] = [];
    const culprit = index === undefined ? undefined : envelopes[index];
    if (culprit) {
      const tries = (this.#attempts.get(culprit) ?? 0) + 1;
      this.#attempts.set(culprit, tries);
      if (tries > this.#retryLimit) {
        envelopes.splice(index as number, 1);
        deadLetters.push({
          tick: this.#tick,
          envelope: culprit,
          reason: `crashed "${agent}" ${tries} time${tries === 1 ? '' : 's'}: ${reason}`,
        });
      }
    }
    if (this.#closed.has(agent)) return [...deadLetters, ...this.#deadLetterAll(envelopes, agent)];
    this.#mailboxes.get(agent)?.prepend(envelopes);
    return deadLetters;
  }

  /**
   * The agent's host stopped answering during its batch and was killed (the watchdog). Which
   * envelope stalled is unknown when the batch held several: the batch goes back, and the agent
   * is then handed one envelope per tick until one completes, so the next stall names its
   * envelope, which is charged an attempt like a trap and dead-lettered past the retry limit.
   */
  stalled(agent: string, reason: string): DeadLetter[] {
    const envelopes = this.#inflight.get(agent);
    if (envelopes?.length === 1) return this.fail(agent, 0, reason);
    this.#singles.add(agent);
    return this.fail(agent, undefined, reason);
  }

  /** The agent will not run again: its mail and all mail sent to it later are dead-lettered. */
  close(agent: string, reason: string): DeadLetter[] {
    this.#closed.set(agent, reason);
    const mailbox = this.#mailboxes.get(agent);
    return mailbox ? this.#deadLetterAll(mailbox.drain(), agent) : [];
  }

  reopen(agent: string): void {
    this.#closed.delete(agent);
  }

  isClosed(agent: string): boolean {
    return this.#closed.has(agent);
  }

  /** Moves logical time forward without deliveries (nothing was pending before `tick`). */
  skipTo(tick: number): void {
    if (this.#inflight.size > 0) throw new Error(`tick ${this.#tick} is still running`);
    this.#tick = Math.max(this.#tick, tick);
  }

  #release(tick: number): Pick<TickPlan, 'deadLetters' | 'rejected' | 'requests'> {
    const deadLetters: DeadLetter[] = [];
    const rejected: DeadLetter[] = [];
    const requests: Envelope[] = [];
    // Notices of rejection are staged while releasing, and go out with the next release.
    const staged = this.#staging.take();
    const sources = [...staged.keys()].sort((a, b) => this.#rank(a) - this.#rank(b));
    for (const source of sources) {
      for (const { output, seq } of staged.get(source) as Stamped[]) {
        const envelope = this.#stamp(source, output, tick, seq);
        const route = this.#routing.route(source, envelope);
        if (route.to === 'model' || route.to === 'tool') {
          requests.push(envelope);
        } else if (route.to === 'refused') {
          this.#refuseRequest(source, envelope, route);
        } else if (route.to === 'toolRefused') {
          this.#refuseCall(source, envelope, route);
        } else if (route.to === 'nowhere') {
          deadLetters.push({ tick, envelope, reason: route.reason });
        } else {
          this.#admit(source, envelope, route.agent, { deadLetters, rejected });
        }
      }
    }
    return { deadLetters, rejected, requests };
  }

  /** Into the agent's mailbox, unless it is closed or full (then dead-lettered, or rejected back). */
  #admit(
    source: string,
    envelope: Envelope,
    to: string,
    out: { deadLetters: DeadLetter[]; rejected: DeadLetter[] },
  ): void {
    const { tick } = envelope as { tick: number };
    const closed = this.#closed.get(to);
    if (closed !== undefined) {
      out.deadLetters.push({ tick, envelope, reason: `"${to}" is not running: ${closed}` });
      return;
    }
    const mailbox = this.#mailboxes.get(to) as Queue<Envelope>;
    const receiver = this.#receivers.get(to) as Receiver;
    if (mailbox.length < receiver.mailbox) {
      // Past a batch's worth it waits a tick more at least: it gets bytes of its own, so a
      // backlog does not hold the frames its envelopes came in (a batch of views at most).
      const kept = mailbox.length < this.#maxBatch ? envelope : ownBytes(envelope);
      // In key order: a release without batches leaves the tick as it was, so a later release
      // stamps the same tick, and its envelopes may rank before some already queued.
      mailbox.insertOrdered(kept, this.#byKey);
      return;
    }
    const reason = `the mailbox of "${to}" is full (limits.mailbox ${receiver.mailbox})`;
    if (receiver.overflow === 'reject' && this.#mailboxes.has(source)) {
      out.rejected.push({ tick, envelope, reason });
      const notice = { to: source, kind: REJECTED_KIND, payload: new TextEncoder().encode(reason) };
      this.stage(RUNTIME, [{ ...notice, correlationId: envelopeId(envelope) }]);
    } else {
      out.deadLetters.push({ tick, envelope, reason });
    }
  }

  /** A request no model takes: an agent that sent it gets an inference error naming the model. */
  #refuseRequest(source: string, envelope: Envelope, refusal: Extract<Route, { to: 'refused' }>): void {
    if (!this.#mailboxes.has(source)) return;
    const { model, code, message } = refusal;
    const payload = encodeInferenceError({ model, input: '', code, message });
    this.stage(RUNTIME, [
      { to: source, kind: INFER_ERROR_KIND, payload, correlationId: envelopeId(envelope) },
    ]);
  }

  /** A call no tool server takes: an agent that made it gets a tool error naming why. */
  #refuseCall(source: string, envelope: Envelope, refusal: Extract<Route, { to: 'toolRefused' }>): void {
    if (!this.#mailboxes.has(source)) return;
    const payload = encodeToolError(refusal.code, refusal.message);
    this.stage(RUNTIME, [
      { to: source, kind: TOOL_ERROR_KIND, payload, correlationId: envelopeId(envelope) },
    ]);
  }

  #rank(source: string): number {
    return this.#ranks.get(source) ?? 0;
  }

  /** Mailbox order: (tick, sender rank, sender's sequence number). */
  readonly #byKey = (a: Envelope, b: Envelope): number =>
    (a.tick ?? 0) - (b.tick ?? 0) ||
    this.#rank(a.from ?? '') - this.#rank(b.from ?? '') ||
    (a.seq ?? 0) - (b.seq ?? 0);

  /** The output's encoded fields travel on as they came (deliver-wire.ts): not decoded again. */
  #stamp(source: string, output: Output, tick: number, seq: number): Envelope & WithWire {
    return {
      from: source,
      to: output.to ?? '',
      kind: output.kind ?? '',
      payload: output.payload ?? EMPTY,
      correlationId: output.correlationId ?? '',
      tick,
      seq,
      wire: output.wire,
    };
  }

  #deadLetterAll(envelopes: readonly Envelope[], agent: string): DeadLetter[] {
    const reason = `"${agent}" is not running: ${this.#closed.get(agent) ?? 'closed'}`;
    return envelopes.map((envelope) => ({ tick: this.#tick, envelope, reason }));
  }
}
