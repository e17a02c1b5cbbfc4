// What an operator asks of a running system (the CLI, the window, a standby following a
// recording): injections and re-sends, kills, restarts and reloads by hand, more of a recording.
// Pause, step and stop are the tick loop's and the boundary's (runtime-core.ts dispatches them).
import type { ControlCommand } from './core-io.js';
import type { CoreState } from './core-state.js';
import { EXTERNAL } from './scheduler.js';

/** Payload bytes injected messages may hold while they wait for the next tick, all together. */
export const INJECTED_WAITING_BYTES = 64 * 2 ** 20;

/** Why an injection would be refused, before it is buffered; undefined when it would be taken. */
export function injectRefusal(s: CoreState, to: string, payload: Uint8Array): string | undefined {
  const limit = s.slots.get(to)?.spec.limits.maxMessageBytes;
  if (limit !== undefined && payload.length > limit)
    return `the payload is ${payload.length} bytes, above limits.maxMessageBytes ${limit} of "${to}"`;
  // Injections wait for the next tick (all of them while the system is paused): what they may
  // hold is bounded (issue 26: 300 of 1 MiB took a paused supervisor from 109 to 649 MiB).
  const waiting = s.scheduler.stagedBytes(EXTERNAL);
  if (waiting + payload.length > INJECTED_WAITING_BYTES)
    return `injected messages waiting for the next tick already hold ${waiting} bytes; with these ${payload.length} they would pass the ${INJECTED_WAITING_BYTES / 2 ** 20} MiB that may wait (is the system paused?)`;
  return undefined;
}

/** Why a hand restart would be refused; undefined when the agent has a host to restart. */
export function restartRefusal(s: CoreState, agent: string): string | undefined {
  const slot = s.slots.get(agent);
  if (!slot) return `no agent named "${agent}"`;
  if (slot.host === undefined || slot.state === 'stopped' || slot.state === 'failed') {
    return `"${agent}" is ${slot.state}: it has no process to restart`;
  }
  return undefined;
}

/** Applies an operator's command (pause, resume, step and stop excepted). */
export function applyCommand(
  s: CoreState,
  command: Exclude<ControlCommand, { type: 'pause' | 'resume' | 'step' | 'stop' }>,
): void {
  switch (command.type) {
    case 'inject': {
      const { to, kind, payload, correlationId } = command;
      if (injectRefusal(s, to, payload)) return;
      s.enter(EXTERNAL, { to, kind, payload, correlationId });
      break;
    }
    case 'reinject': {
      const letter = s.deadLetters.take(command.id);
      if (!letter) return;
      const { from, to, kind, payload, correlationId } = letter.envelope;
      s.enter(from ?? EXTERNAL, { to, kind, payload, correlationId });
      s.emit({ type: 'message.reinjected', id: command.id, agent: to ?? '' });
      break;
    }
    case 'kill': {
      const host = s.slots.get(command.agent)?.host;
      if (host !== undefined) s.effects.push({ type: 'kill', host });
      return;
    }
    case 'restart': {
      const slot = s.slots.get(command.agent);
      // Already being ended (its watchdog fired, say): that end stands.
      if (!slot || restartRefusal(s, command.agent) || slot.host === undefined) return;
      if (slot.faultReason !== undefined) return;
      slot.faultReason = 'restarted by hand';
      slot.byHand = true;
      s.effects.push({ type: 'kill', host: slot.host });
      return;
    }
    case 'reload': {
      const slot = s.slots.get(command.agent);
      if (!slot) return;
      // Not running now: the next start loads the new module.
      slot.modulePath = command.path;
      if (restartRefusal(s, command.agent) || slot.host === undefined) return;
      if (slot.faultReason !== undefined) return;
      slot.faultReason = 'reloaded: its module changed';
      slot.byHand = true;
      s.effects.push({ type: 'kill', host: slot.host });
      return;
    }
  }
}
