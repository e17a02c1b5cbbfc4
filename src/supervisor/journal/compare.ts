// Where two journals of one system part: the first tick at which an agent was handed a different
// batch (or one had a batch the other did not), or an agent's state differs at a checkpoint. Pure:
// it reads the records' hashes, runs nothing.
import type { JournalRecord } from '../../protocol/index.js';

export interface Parting {
  tick: number;
  reason: string;
}

/** Undefined when the journals agree on every tick both hold; else the first difference. */
export function compareJournals(
  a: readonly JournalRecord[],
  b: readonly JournalRecord[],
): Parting | undefined {
  const ticks = (records: readonly JournalRecord[], kind: 'tick' | 'checkpoint') => {
    const map = new Map<number, Map<string, string>>();
    for (const record of records) {
      const entry = record[kind];
      if (!entry) continue;
      const hashes = new Map(
        (entry.agents ?? []).map((agent, i) => [agent, Buffer.from(entry.hashes?.[i] ?? []).toString('hex')]),
      );
      map.set(Number(entry.tick ?? 0), hashes);
    }
    return map;
  };
  const [ta, tb, ca, cb] = [
    ticks(a, 'tick'),
    ticks(b, 'tick'),
    ticks(a, 'checkpoint'),
    ticks(b, 'checkpoint'),
  ];
  const lastA = Math.max(0, ...ta.keys());
  const lastB = Math.max(0, ...tb.keys());
  const last = Math.min(lastA, lastB);
  for (let tick = 1; tick <= last; tick++) {
    const difference =
      differ(ta.get(tick), tb.get(tick), 'was handed a different batch') ??
      differ(ca.get(tick), cb.get(tick), 'has a different state after the tick');
    if (difference) return { tick, reason: difference };
  }
  if (lastA !== lastB) {
    const [longer, shorter] = lastA > lastB ? ['the first', 'the second'] : ['the second', 'the first'];
    return {
      tick: last + 1,
      reason: `${shorter} journal ends at tick ${last}; ${longer} goes on to tick ${Math.max(lastA, lastB)}`,
    };
  }
  return undefined;
}

function differ(
  a: Map<string, string> | undefined,
  b: Map<string, string> | undefined,
  what: string,
): string | undefined {
  if (!a && !b) return undefined;
  const agents = [...new Set([...(a?.keys() ?? []), ...(b?.keys() ?? [])])].sort();
  for (const agent of agents) {
    const [x, y] = [a?.get(agent), b?.get(agent)];
    if (x === y) continue;
    if (x === undefined) return `agent "${agent}" got a batch only in the second journal`;
    if (y === undefined) return `agent "${agent}" got a batch only in the first journal`;
    return `agent "${agent}" ${what} (${x} in the first, ${y} in the second)`;
  }
  return undefined;
}
