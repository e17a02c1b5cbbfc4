import { errorText } from '../protocol/index.js';
// Commands accepted on stdin by `troupe run --control`, one JSON object per line. Parsing is pure;
// run-command.ts carries them out.

export type ControlCommand =
  | { op: 'inject'; to: string; kind: string; payload: Uint8Array }
  | { op: 'reinject'; id: string }
  | { op: 'dead-letters' }
  | { op: 'kill'; agent: string }
  | { op: 'stop' };

export const CONTROL_HELP = `control commands (one JSON object per line on stdin):
  {"op":"inject","to":"<agent>","kind":"<kind>","text":"<utf-8 payload>"}   (or "base64" instead of "text")
  {"op":"reinject","id":"<dead letter id>"}
  {"op":"dead-letters"}
  {"op":"kill","agent":"<agent>"}
  {"op":"stop"}`;

export function parseControl(line: string): ControlCommand | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { error: `not JSON: ${errorText(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'expected a JSON object' };
  const command = value as Record<string, unknown>;
  const text = (field: string): string | { error: string } =>
    typeof command[field] === 'string' && command[field] !== ''
      ? (command[field] as string)
      : { error: `"${String(command.op)}" needs a non-empty string "${field}"` };
  switch (command.op) {
    case 'inject': {
      const to = text('to');
      const kind = text('kind');
      if (typeof to !== 'string') return to;
      if (typeof kind !== 'string') return kind;
      if (typeof command.base64 === 'string')
        return { op: 'inject', to, kind, payload: Buffer.from(command.base64, 'base64') };
      const body = typeof command.text === 'string' ? command.text : '';
      return { op: 'inject', to, kind, payload: new TextEncoder().encode(body) };
    }
    case 'reinject': {
      const id = text('id');
      return typeof id === 'string' ? { op: 'reinject', id } : id;
    }
    case 'kill': {
      const agent = text('agent');
      return typeof agent === 'string' ? { op: 'kill', agent } : agent;
    }
    case 'dead-letters':
    case 'stop':
      return { op: command.op };
    default:
      return {
        error: `unknown op ${JSON.stringify(command.op)} (inject, reinject, dead-letters, kill, stop)`,
      };
  }
}
