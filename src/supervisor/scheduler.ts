// Deterministic mailboxes and ticks (DESIGN §4). No IO: the supervisor feeds it reports in any
// order and it always hands out the same batches, because order comes from keys, not arrival.
import {
  type Envelope,
  encodeInferenceError,
  envelopeId,
  GENERATE_CANCEL_KIND,
  GENERATE_KIND,
  INFER_ERROR_KIND,
  INFER_KIND,
  InferenceErrorCode,
  type Output,
} from '../protocol/index.js';
import type { AgentSpec, MailboxOverflow } from './config/index.js';
import { Queue } from './queue.js';

/** The source name of messages that enter from outside (UI, CLI, API); it ranks before every agent. */
export const EXTERNAL = '@external';
/** The source name of the runtime's own notices to agents, e.g. a rejected message. */
export const RUNTIME = '@troupe';
/** Kind of the notice an agent gets back when its message was rejected (payload: the reason). */
export const REJECTED_KIND = 'troupe/rejected';
/** Models are addressed "@gpu/<model>"; their answers come from that address. */
export const MODEL_PREFIX = '@gpu/';

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
  /** Inference requests released at this tick, in key order: for the GPU host. */
  requests: Envelope[];
}

interface Sender {
  rank: number;
  sendTo: ReadonlySet<string> | '*';
  models: ReadonlySet<string> | '*';
  maxMessageBytes: number;
}

interface Receiver {
  mailbox: number;
  overflow: MailboxOverflow;
}

export class Scheduler {
  readonly #maxBatch: number;
  readonly #retryLimit: number;
  readonly #senders = new Map<string, Sender>();
  readonly #receivers = new Map<string, Receiver>();
  /** Agent names in rank order (stable: sorted by name). */
  readonly #ranked: string[];
  readonly #mailboxes = new Map<string, Queue<Envelope>>();
  /** Failed attempts, kept only for envelopes whose handling crashed their agent. */
  readonly #attempts = new WeakMap<Envelope, number>();
  readonly #closed = new Map<string, string>();
  readonly #seq = new Map<string, number>();
  /** Outputs waiting for the next tick boundary, per source. */
  readonly #staged = new Map<string, Output[]>();
  readonly #inflight = new Map<string, Envelope[]>();
  /** Agents handed one envelope per tick since a batch of several stalled (see stalled()). */
  readonly #singles = new Set<string>();
  #tick = 0;

  /** Declared models and their type. */
  readonly #models: ReadonlyMap<string, 'onnx' | 'llm'>;

  constructor(
    agents: readonly AgentSpec[],
    options: {
      maxBatch: number;
      retryLimit: number;
      models?: ReadonlyArray<{ name: string; type: 'onnx' | 'llm' }>;
    },
  ) {
    this.#maxBatch = options.maxBatch;
    this.#retryLimit = options.retryLimit;
    this.#ranked = agents.map((agent) => agent.name).sort();
    this.#ranked.forEach((name, rank) => {
      const spec = agents.find((agent) => agent.name === name) as AgentSpec;
      const { sendTo, models } = spec;
      this.#senders.set(name, { rank, sendTo, models, maxMessageBytes: spec.limits.maxMessageBytes });
      this.#receivers.set(name, { mailbox: spec.limits.mailbox, overflow: spec.limits.overflow });
      this.#mailboxes.set(name, new Queue());
    });
    const unlimited = { sendTo: '*', models: '*', maxMessageBytes: Number.POSITIVE_INFINITY } as const;
    this.#models = new Map((options.models ?? []).map((model) => [model.name, model.type]));
    // Models answer from "@gpu/<model>"; they rank before the runtime, in name order.
    [...this.#models.keys()].sort().forEach((model, index, all) => {
      this.#senders.set(`${MODEL_PREFIX}${model}`, { rank: index - all.length - 2, ...unlimited });
    });
    this.#senders.set(RUNTIME, { rank: -2, ...unlimited });
    this.#senders.set(EXTERNAL, { rank: -1, ...unlimited });
  }

  /** The last tick handed out. */
  get tick(): number {
    return this.#tick;
  }

  /** Outputs waiting for the next release. */
  get staged(): boolean {
    return this.#staged.size > 0;
  }

  /** The envelopes waiting in the agent's mailbox, in delivery order. */
  mailbox(agent: string): readonly Envelope[] {
    return this.#mailboxes.get(agent)?.peek() ?? [];
  }

  /** Outputs sent to the agent that enter its mailbox at the next tick boundary, by sender. */
  inTransit(agent: string): Array<{ from: string; output: Output }> {
    const found: Array<{ from: string; output: Output }> = [];
    for (const [from, outputs] of this.#staged) {
      for (const output of outputs) if (output.to === agent) found.push({ from, output });
    }
    return found;
  }

  /** Envelopes in the agent's batch in flight (0 when it holds none). */
  inflightSize(agent: string): number {
    return this.#inflight.get(agent)?.length ?? 0;
  }

  mailboxDepth(agent: string): number {
    return this.#mailboxes.get(agent)?.length ?? 0;
  }

  /** Outputs of `source` (an agent's init or tick, or EXTERNAL) to release at the next tick. */
  stage(source: string, outputs: readonly Output[]): void {
    if (outputs.length === 0) return;
    const staged = this.#staged.get(source);
    if (staged) staged.push(...outputs);
    else this.#staged.set(source, [...outputs]);
  }

  /**
   * Starts the next tick: releases staged outputs in (source rank, send order), then gives each
   * eligible agent with mail one batch in key order.
   */
  plan(eligible: (agent: string) => boolean): TickPlan {
    if (this.#inflight.size > 0) throw new Error(`tick ${this.#tick} is still running`);
    const next = this.#tick + 1;
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
    const sources = [...this.#staged.keys()].sort(
      (a, b) => (this.#senders.get(a)?.rank ?? 0) - (this.#senders.get(b)?.rank ?? 0),
    );
    // Notices of rejection are staged while releasing, and go out with the next release.
    const staged = new Map(this.#staged);
    this.#staged.clear();
    for (const source of sources) {
      const sender = this.#senders.get(source) as Sender;
      for (const output of staged.get(source) as Output[]) {
        const envelope = this.#stamp(source, output, tick);
        if (envelope.to?.startsWith(MODEL_PREFIX)) {
          if (this.#routeRequest(source, sender, envelope)) requests.push(envelope);
          continue;
        }
        const refusal = this.#refusal(source, sender, envelope);
        if (refusal) {
          deadLetters.push({ tick, envelope, reason: refusal });
          continue;
        }
        const to = envelope.to as string;
        const mailbox = this.#mailboxes.get(to) as Queue<Envelope>;
        const receiver = this.#receivers.get(to) as Receiver;
        if (mailbox.length < receiver.mailbox) {
          mailbox.push(envelope);
          continue;
        }
        const reason = `the mailbox of "${to}" is full (limits.mailbox ${receiver.mailbox})`;
        if (receiver.overflow === 'reject' && this.#mailboxes.has(source)) {
          rejected.push({ tick, envelope, reason });
          const notice = { to: source, kind: REJECTED_KIND, payload: new TextEncoder().encode(reason) };
          this.stage(RUNTIME, [{ ...notice, correlationId: envelopeId(envelope) }]);
        } else {
          deadLetters.push({ tick, envelope, reason });
        }
      }
    }
    return { deadLetters, rejected, requests };
  }

  /**
   * A request to a model goes to the GPU host when the model exists, the sender is granted it and
   * the kind is right; otherwise the sender gets an inference error naming the model.
   */
  #routeRequest(source: string, sender: Sender, envelope: Envelope): boolean {
    const model = (envelope.to as string).slice(MODEL_PREFIX.length);
    let code: InferenceErrorCode | undefined;
    let message = '';
    if (!this.#models.has(model)) {
      code = InferenceErrorCode.UNKNOWN_MODEL;
      const declared = this.#models.size > 0 ? [...this.#models.keys()].join(', ') : 'none';
      message = `no model "${model}" is declared in this system (models: ${declared})`;
    } else if (sender.models !== '*' && !sender.models.has(model)) {
      code = InferenceErrorCode.NOT_GRANTED;
      message = `"${source}" may not use model "${model}" (not in its capabilities.models)`;
    } else {
      const kinds = this.#models.get(model) === 'llm' ? [GENERATE_KIND, GENERATE_CANCEL_KIND] : [INFER_KIND];
      if (!kinds.includes(envelope.kind ?? '')) {
        code = InferenceErrorCode.BAD_REQUEST;
        const wanted = kinds.map((kind) => `"${kind}"`).join(' or ');
        message = `model "${model}" takes envelopes of kind ${wanted} (got "${envelope.kind}")`;
      }
    }
    if (code === undefined) return true;
    if (this.#mailboxes.has(source)) {
      const payload = encodeInferenceError({ model, input: '', code, message });
      this.stage(RUNTIME, [
        { to: source, kind: INFER_ERROR_KIND, payload, correlationId: envelopeId(envelope) },
      ]);
    }
    return false;
  }

  #stamp(source: string, output: Output, tick: number): Envelope {
    const seq = (this.#seq.get(source) ?? 0) + 1;
    this.#seq.set(source, seq);
    return {
      from: source,
      to: output.to ?? '',
      kind: output.kind ?? '',
      payload: output.payload ?? new Uint8Array(0),
      correlationId: output.correlationId ?? '',
      tick,
      seq,
    };
  }

  #refusal(source: string, sender: Sender, envelope: Envelope): string | undefined {
    const to = envelope.to as string;
    if (!this.#mailboxes.has(to)) return `"${source}" sent to "${to}", which is not an agent of this system`;
    if (sender.sendTo !== '*' && !sender.sendTo.has(to)) {
      return `"${source}" may not send to "${to}" (not in its capabilities.sendTo)`;
    }
    const size = envelope.payload?.length ?? 0;
    if (size > sender.maxMessageBytes) {
      return `payload of ${size} bytes exceeds maxMessageBytes ${sender.maxMessageBytes} of "${source}"`;
    }
    const closed = this.#closed.get(to);
    return closed === undefined ? undefined : `"${to}" is not running: ${closed}`;
  }

  #deadLetterAll(envelopes: readonly Envelope[], agent: string): DeadLetter[] {
    const reason = `"${agent}" is not running: ${this.#closed.get(agent) ?? 'closed'}`;
    return envelopes.map((envelope) => ({ tick: this.#tick, envelope, reason }));
  }
}
