// What `troupe attach` takes from a dashboard server, checked before use (issue 26): the server
// is another process, perhaps broken or hostile, so a message that is not JSON, is `null`, or
// holds a malformed snapshot is refused by name, never a crash (pure).
import type { AgentStatus } from '../supervisor/index.js';

/** The parts of a snapshot attach shows. */
export interface AttachSnapshot {
  system: string;
  tick: number;
  paused: boolean;
  idle: boolean;
  ended?: { ok: boolean; reason: string };
  /** The agents' status as the dashboard shows it (their use of limits is not shown here). */
  agents: Array<Omit<AgentStatus, 'usage'>>;
}

export type AttachMessage =
  | { type: 'snapshot'; snapshot: AttachSnapshot }
  | { type: 'command.result'; id: number; error?: string }
  | { type: 'other' };

type Read = { ok: true; message: AttachMessage } | { ok: false; reason: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const count = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

/** The message in `data`, or why it is not one attach can use. */
export function readAttachMessage(data: string): Read {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'a message that is not JSON' };
  }
  if (!isObject(parsed) || typeof parsed.type !== 'string')
    return { ok: false, reason: 'a message that is not an object with a "type"' };
  if (parsed.type === 'command.result') {
    if (!count(parsed.id)) return { ok: false, reason: 'a command result without a numeric "id"' };
    if (parsed.error !== undefined && typeof parsed.error !== 'string')
      return { ok: false, reason: 'a command result whose "error" is not text' };
    return {
      ok: true,
      message: {
        type: 'command.result',
        id: parsed.id as number,
        ...(parsed.error !== undefined ? { error: parsed.error as string } : {}),
      },
    };
  }
  if (parsed.type !== 'snapshot') return { ok: true, message: { type: 'other' } };
  const why = snapshotFault(parsed.snapshot);
  if (why) return { ok: false, reason: `a malformed snapshot (${why})` };
  return { ok: true, message: { type: 'snapshot', snapshot: parsed.snapshot as AttachSnapshot } };
}

/** What is wrong with a snapshot, or undefined. */
function snapshotFault(snapshot: unknown): string | undefined {
  if (!isObject(snapshot)) return 'not an object';
  if (typeof snapshot.system !== 'string') return '"system" is not text';
  if (!count(snapshot.tick)) return '"tick" is not a count';
  if (typeof snapshot.paused !== 'boolean' || typeof snapshot.idle !== 'boolean')
    return '"paused" or "idle" is not true or false';
  const { ended } = snapshot;
  if (
    ended !== undefined &&
    (!isObject(ended) || typeof ended.ok !== 'boolean' || typeof ended.reason !== 'string')
  )
    return '"ended" is not { ok, reason }';
  if (!Array.isArray(snapshot.agents)) return '"agents" is not a list';
  for (const [i, agent] of snapshot.agents.entries()) {
    if (!isObject(agent)) return `agents[${i}] is not an object`;
    if (typeof agent.name !== 'string' || typeof agent.state !== 'string')
      return `agents[${i}] has no name or state`;
    for (const field of ['mailbox', 'delivered', 'restarts'])
      if (!count(agent[field])) return `agents[${i}].${field} is not a count`;
    if (agent.lastCrash !== undefined && typeof agent.lastCrash !== 'string')
      return `agents[${i}].lastCrash is not text`;
  }
  return undefined;
}
