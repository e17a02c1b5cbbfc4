// What a replay feeds the runtime: the recorded external inputs by tick, and the recorded tick
// hashes to check against. Built from decoded journal records; pure.
import type { JournalRecord, Output } from '../../protocol/index.js';
import type { Escalation } from '../core/supervision.js';

export interface RecordedInput {
  from: string;
  output: Output;
  /** The releases its boundary had made (with nothing to hand out) before it arrived. */
  release: number;
}

export interface RecordedKill {
  agent: string;
  inFlight: boolean;
  /** The host died of what the agent was running (launch/types.ts ExitInfo.culprit). */
  culprit: boolean;
  /** The host died of another agent's fault: the agent was started again, charged nothing. */
  bystander: boolean;
  /** The operator ended it (a restart by hand), for this reason; undefined: a death from outside. */
  reason: string | undefined;
  /** It died while the tick ran, not holding a batch of it: decided with the tick's exits. */
  duringTick: boolean;
  /** Between ticks: the releases the boundary had made (with nothing to hand out) before it. */
  release: number;
  /** The host had not answered this load (its generation; journals before this field: none). */
  loading: number | undefined;
}

export class ReplayPlan {
  readonly #injects = new Map<number, RecordedInput[]>();
  readonly #kills = new Map<number, RecordedKill[]>();
  readonly #ticks = new Map<number, Map<string, Uint8Array>>();
  readonly #checkpoints = new Map<number, Map<string, Uint8Array>>();
  /** The supervisors that gave up on restart intensity, by the tick they did. */
  readonly #escalations = new Map<number, Escalation[]>();
  /** The last tick the recording handed out. */
  #lastTick = 0;

  constructor(records: readonly JournalRecord[]) {
    this.append(records);
  }

  get lastTick(): number {
    return this.#lastTick;
  }

  /** More of the recording (a run followed while it is recorded): records after those given. */
  append(records: readonly JournalRecord[]): void {
    let last = this.#lastTick;
    for (const record of records) {
      if (record.inject) {
        const { tick, from, to, kind, payload, correlationId, release } = record.inject;
        const output = { to, kind, payload, correlationId };
        push(this.#injects, tick ?? 0, { from: from ?? '', output, release: release ?? 0 });
      } else if (record.kill) {
        const { tick, agent, inFlight, culprit, bystander, reason, duringTick, release } = record.kill;
        push(this.#kills, tick ?? 0, {
          agent: agent ?? '',
          inFlight: inFlight ?? false,
          culprit: culprit ?? false,
          bystander: bystander ?? false,
          reason: reason || undefined,
          duringTick: duringTick ?? false,
          release: release ?? 0,
          loading: record.kill.loading ? (record.kill.generation ?? 0) : undefined,
        });
      } else if (record.escalation) {
        const { tick, supervisor, check } = record.escalation;
        push(this.#escalations, Number(tick ?? 0), { supervisor: supervisor ?? '', check: check ?? 0 });
      } else if (record.checkpoint) {
        this.#checkpoints.set(record.checkpoint.tick ?? 0, byAgent(record.checkpoint));
      } else if (record.tick) {
        const tick = record.tick.tick ?? 0;
        this.#ticks.set(tick, byAgent(record.tick));
        last = Math.max(last, tick);
      }
    }
    this.#lastTick = last;
  }

  /** The restart checks of the recorded run that gave up on restart intensity at this tick. */
  escalationsAt(tick: number): readonly Escalation[] {
    return this.#escalations.get(tick) ?? [];
  }

  /** Inputs released at the boundary of `tick`. */
  injectsAt(tick: number): RecordedInput[] {
    return this.#injects.get(tick) ?? [];
  }

  /** Kills observed while `tick` was the last tick handed out. */
  killsAt(tick: number): RecordedKill[] {
    return this.#kills.get(tick) ?? [];
  }

  /** Compares agents' state hashes after a checkpoint tick with the recording, if it has them. */
  checkState(tick: number, hashes: ReadonlyMap<string, Uint8Array>): string | undefined {
    const recorded = this.#checkpoints.get(tick);
    if (!recorded) return undefined;
    for (const [agent, expected] of recorded) {
      const hash = hashes.get(agent);
      if (!hash || !Buffer.from(expected).equals(hash)) {
        const replayed = hash ? hex(hash) : 'none';
        return `the state of agent "${agent}" differs after the tick (recorded ${hex(expected)}, replayed ${replayed})`;
      }
    }
    return undefined;
  }

  /**
   * Compares one tick's per-agent delivery hashes with the recording; undefined when they agree,
   * else what differs, naming the agent.
   */
  check(tick: number, hashes: ReadonlyMap<string, Uint8Array>): string | undefined {
    const recorded = this.#ticks.get(tick) ?? new Map<string, Uint8Array>();
    for (const [agent, hash] of hashes) {
      const expected = recorded.get(agent);
      if (!expected) return `agent "${agent}" received a batch in the replay but not in the recording`;
      if (!Buffer.from(expected).equals(hash)) {
        return `agent "${agent}" received different envelopes (recorded ${hex(expected)}, replayed ${hex(hash)})`;
      }
    }
    for (const agent of recorded.keys()) {
      if (!hashes.has(agent))
        return `agent "${agent}" received a batch in the recording but not in the replay`;
    }
    return undefined;
  }
}

/** Tick and checkpoint records both pair agents with hashes, index by index. */
function byAgent(record: {
  agents?: string[] | null;
  hashes?: Uint8Array[] | null;
}): Map<string, Uint8Array> {
  const hashes = record.hashes ?? [];
  return new Map((record.agents ?? []).map((agent, index) => [agent, hashes[index] as Uint8Array]));
}

function push<T>(map: Map<number, T[]>, tick: number, item: T): void {
  const list = map.get(tick);
  if (list) list.push(item);
  else map.set(tick, [item]);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
