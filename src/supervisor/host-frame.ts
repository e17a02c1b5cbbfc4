// Checks a frame from an agent host before anything in it is believed: it must decode, carry only
// events, and speak only for the agent that host serves.
import { decodeFrame, type HostEvent } from '../protocol/index.js';

export type HostFrameCheck = { ok: true; events: HostEvent[] } | { ok: false; error: string };

export function checkHostFrame(bytes: unknown, agent: string): HostFrameCheck {
  const decoded = decodeFrame(bytes);
  if (!decoded.ok) return decoded;
  if (decoded.frame.commands.length > 0) return { ok: false, error: 'a host may not send commands' };
  const stray = decoded.frame.events.find((event) => event.agent !== agent);
  if (stray) return { ok: false, error: `event names agent "${stray.agent}"` };
  return { ok: true, events: decoded.frame.events };
}
