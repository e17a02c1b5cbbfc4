// The agents of the core simulation. Like real ones they are deterministic: the same envelopes get
// the same answer, and a start the same init. What an agent does is a function of a salt, its name
// and what it is given, never of the world's random stream, so a recorded run can be replayed with
// the world doing things in another order.
import { createHash } from 'node:crypto';
import {
  type Envelope,
  envelopeId,
  GENERATE_KIND,
  generatesText,
  INFER_KIND,
  type Output,
  TOOL_CALL_KIND,
} from '../../src/protocol/index.js';
import { MODEL_PREFIX, type ModelType } from '../../src/supervisor/index.js';
import { seededRandom } from './seed.js';

/** What an agent does with a batch. */
export type BatchOutcome =
  /** It traps on the envelope at `index`. */
  | { type: 'trap'; index: number }
  /** It never answers (only the watchdog ends it). */
  | { type: 'hang' }
  /** Its host ends by itself while running it (a thread past its heap limit): its own fault. */
  | { type: 'oom' }
  | { type: 'done'; outputs: Output[]; handled: number; finished: boolean; snapshot?: Uint8Array };

/** Per envelope, how often each fate befalls it (cumulative thresholds). */
const FATES = { trap: 0.015, hang: 0.0175, oom: 0.0225, finished: 0.025 };

export class SimAgents {
  readonly salt: number;
  readonly #agents: readonly string[];
  readonly #models: ReadonlyArray<{ name: string; type: ModelType }>;

  constructor(
    salt: number,
    agents: readonly string[],
    models: ReadonlyArray<{ name: string; type: ModelType }>,
  ) {
    this.salt = salt;
    this.#agents = agents;
    this.#models = models;
  }

  /** Whether the agent's module is refused before it ever runs (now and then). */
  refused(agent: string): boolean {
    return this.#roll(agent, 'module') < 0.02;
  }

  /**
   * The agent's init at a load, from the snapshot it is given (if any): it fails now and then,
   * else sends what it sends from that state.
   */
  init(agent: string, snapshot: Uint8Array | undefined): { failed: boolean; outputs: Output[] } {
    const state = `init:${Buffer.from(snapshot ?? []).toString('hex')}`;
    if (this.#roll(agent, state) < 0.01) return { failed: true, outputs: [] };
    return { failed: false, outputs: this.#outputs(seededRandom(this.#seed(agent, state)), 2) };
  }

  /** What the agent does with a batch. */
  handle(agent: string, envelopes: readonly Envelope[]): BatchOutcome {
    const outputs: Output[] = [];
    for (const [index, envelope] of envelopes.entries()) {
      const id = envelopeId(envelope);
      const fate = this.#roll(agent, id);
      if (fate < FATES.trap) return { type: 'trap', index };
      if (fate < FATES.hang) return { type: 'hang' };
      if (fate < FATES.oom) return { type: 'oom' };
      outputs.push(...this.#outputs(seededRandom(this.#seed(agent, id)), 1.2));
      if (fate < FATES.finished) return { type: 'done', outputs, handled: index + 1, finished: true };
    }
    // Now and then a snapshot of its state: what it last handled.
    const last = envelopeId(envelopes.at(-1) as Envelope);
    const state = this.#seed(agent, `snapshot:${last}`);
    const snapshot = state / 2 ** 32 < 0.2 ? new Uint8Array([state & 0xff, (state >> 8) & 0xff]) : undefined;
    return {
      type: 'done',
      outputs,
      handled: envelopes.length,
      finished: false,
      ...(snapshot ? { snapshot } : {}),
    };
  }

  /** Messages to agents (and to a name that is none) and model and LLM requests, `mean` of them. */
  #outputs(random: () => number, mean: number): Output[] {
    const outputs: Output[] = [];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    while (random() < mean / (mean + 1) && outputs.length < 4) {
      const token = `sim:${Math.floor(random() * 2 ** 40)}`;
      const roll = random();
      if (roll < 0.03) {
        // A tool call: its token rides in the arguments.
        const call = JSON.stringify({ tool: 'echo', arguments: { token } });
        outputs.push({ to: '@tool/t', kind: TOOL_CALL_KIND, payload: new TextEncoder().encode(call) });
      } else if (roll < 0.1 && this.#models.length > 0) {
        const payload = new TextEncoder().encode(token);
        const model = pick(this.#models);
        const kind = generatesText(model.type) ? GENERATE_KIND : INFER_KIND;
        outputs.push({ to: `${MODEL_PREFIX}${model.name}`, kind, payload });
      } else {
        const to = roll < 0.13 ? 'nobody' : pick(this.#agents);
        outputs.push({ to, kind: token, payload: new Uint8Array(Math.floor(random() * 8)) });
      }
    }
    return outputs;
  }

  #roll(agent: string, what: string): number {
    return this.#seed(agent, what) / 2 ** 32;
  }

  #seed(agent: string, what: string): number {
    return createHash('sha256').update(`${this.salt}\0${agent}\0${what}`).digest().readUInt32BE(0);
  }
}
