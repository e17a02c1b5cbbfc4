// The calls agents make to models and tools, as the window shows them: each request as it was
// released, matched with its final answer by correlation id (streamed tokens counted on the way),
// with the ticks and the time between. A call refused before it went out (not granted, no such
// model or server) shows with its refusal. Pure: fed requests and deliveries, with the time.
import { type Envelope, envelopeId, GENERATE_CANCEL_KIND, GENERATE_TOKEN_KIND } from '../protocol/index.js';
import { RUNTIME } from '../supervisor/index.js';
import { describeAnswer, describeRequest, FINAL_KINDS } from './call-text.js';
import type { CallView } from './wire.js';

/** Calls kept per agent once answered, and calls waiting for an answer in all. */
const DONE_KEPT = 50;
const OPEN_KEPT = 10_000;

export class CallTracker {
  readonly #open = new Map<string, CallView & { at: number }>();
  readonly #done = new Map<string, CallView[]>();

  /** Requests a tick released to the models and tools. */
  sent(tick: number, requests: readonly Envelope[], at: number): void {
    for (const envelope of requests) {
      if (envelope.kind === GENERATE_CANCEL_KIND) continue;
      const { what, args } = describeRequest(envelope);
      const id = envelopeId(envelope);
      this.#open.set(id, {
        id,
        agent: envelope.from ?? '',
        to: envelope.to ?? '',
        what,
        args,
        sentTick: tick,
        state: 'waiting',
        at,
      });
      if (this.#open.size > OPEN_KEPT) this.#open.delete(this.#open.keys().next().value as string);
    }
  }

  /** An envelope delivered to `agent`: returns the call it ends, if it is a call's final answer. */
  delivered(tick: number, agent: string, envelope: Envelope, at: number): CallView | undefined {
    const id = envelope.correlationId ?? '';
    const open = this.#open.get(id);
    if (envelope.kind === GENERATE_TOKEN_KIND) {
      if (open) open.tokens = (open.tokens ?? 0) + 1;
      return undefined;
    }
    if (!FINAL_KINDS.has(envelope.kind ?? '') || !id) return undefined;
    // A refusal from the runtime answers a request that never went out.
    if (!open && envelope.from !== RUNTIME) return undefined;
    this.#open.delete(id);
    const { at: sentAt, ...call } = open ?? {
      id,
      agent,
      to: '',
      what: 'refused before it went out',
      args: '',
      state: 'waiting' as const,
      at,
    };
    const outcome = describeAnswer(envelope);
    const done: CallView = {
      ...call,
      answeredTick: tick,
      ms: Math.round(at - sentAt),
      ...('error' in outcome
        ? { state: 'error', error: outcome.error }
        : { state: 'ok', answer: outcome.answer }),
    };
    const list = this.#done.get(agent) ?? [];
    list.push(done);
    if (list.length > DONE_KEPT) list.shift();
    this.#done.set(agent, list);
    return done;
  }

  /** The agent's calls, oldest first: the answered ones kept, then those still waiting. */
  of(agent: string): CallView[] {
    const waiting = [...this.#open.values()]
      .filter((call) => call.agent === agent)
      .slice(-DONE_KEPT)
      .map(({ at: _, ...call }) => call);
    return [...(this.#done.get(agent) ?? []), ...waiting];
  }
}

/** One line for the timeline and the trace: what was asked, what came of it, and how long it took. */
export function callSummary(call: CallView): string {
  const args = call.args ? ` ${call.args}` : '';
  const outcome =
    call.state === 'error' ? call.error : call.state === 'ok' ? `ok: ${call.answer}` : 'waiting';
  const ticks =
    call.sentTick !== undefined && call.answeredTick !== undefined
      ? `${call.answeredTick - call.sentTick} ticks, ${call.ms} ms`
      : 'not sent';
  const tokens = call.tokens ? `, ${call.tokens} tokens` : '';
  return `${call.what}${args} → ${outcome} (${ticks}${tokens})`;
}
