// Checks commands from the window or the browser before anything acts on them; every refusal
// names what is wrong.
import { type Command, MAX_INJECT_BYTES } from './wire.js';

const SIMPLE = new Set(['pause', 'resume', 'step', 'reload']);
const FOR_AGENT = new Set(['kill', 'restart', 'detail']);

export type ParsedCommand = { ok: true; command: Command } | { ok: false; error: string };

export function parseCommand(value: unknown, agents: ReadonlySet<string>): ParsedCommand {
  if (typeof value !== 'object' || value === null)
    return { ok: false, error: 'a command is an object with an "op"' };
  const { op, agent, to, kind, text } = value as Record<string, unknown>;
  if (typeof op !== 'string') return { ok: false, error: 'the command has no "op"' };
  if (SIMPLE.has(op)) return { ok: true, command: { op } as Command };
  const known = (name: unknown, field: string): string | undefined => {
    if (typeof name !== 'string' || name === '') return `"${op}" needs "${field}"`;
    return agents.has(name) ? undefined : `no agent named "${name}"`;
  };
  if (FOR_AGENT.has(op)) {
    const error = known(agent, 'agent');
    return error ? { ok: false, error } : { ok: true, command: { op: op as 'kill', agent: agent as string } };
  }
  if (op === 'seek') {
    const { tick, agent: which } = value as Record<string, unknown>;
    if (typeof tick !== 'number' || !Number.isInteger(tick) || tick < 0)
      return { ok: false, error: '"seek" needs a "tick": a whole number ≥ 0' };
    if (which !== undefined) {
      const error = known(which, 'agent');
      if (error) return { ok: false, error };
    }
    return { ok: true, command: { op, tick, ...(which === undefined ? {} : { agent: which as string }) } };
  }
  if (op === 'reinject') {
    const { id } = value as Record<string, unknown>;
    if (typeof id !== 'string' || id === '')
      return { ok: false, error: '"reinject" needs the dead letter\'s "id"' };
    return { ok: true, command: { op, id } };
  }
  if (op === 'inject') {
    const error = known(to, 'to');
    if (error) return { ok: false, error };
    if (typeof kind !== 'string' || kind === '') return { ok: false, error: '"inject" needs a "kind"' };
    if (text !== undefined && typeof text !== 'string')
      return { ok: false, error: '"text" must be a string' };
    const bytes = Buffer.byteLength((text as string | undefined) ?? '', 'utf8');
    if (bytes > MAX_INJECT_BYTES)
      return {
        ok: false,
        error: `"text" is ${bytes} bytes of UTF-8, above the ${MAX_INJECT_BYTES} an inject may carry`,
      };
    return { ok: true, command: { op, to: to as string, kind, text: (text as string | undefined) ?? '' } };
  }
  return {
    ok: false,
    error: `unknown op "${op}" (pause, resume, step, reload, kill, restart, inject, reinject, detail, seek)`,
  };
}
