// Reads control commands from stdin for `troupe run --control` and carries them out.
import { createInterface, type Interface } from 'node:readline';
import { envelopeId } from '../protocol/index.js';
import type { Runtime } from '../supervisor/index.js';
import { parseControl } from './control.js';

/** A line the CLI prints about a command: an answer, or why the command was refused. */
export type ControlOutput =
  | { type: 'control.error'; line: string; reason: string }
  | {
      type: 'dead-letters';
      letters: Array<{ id: string; from: string; to: string; kind: string; reason: string; tick: number }>;
    };

export function listenForCommands(
  runtime: Runtime,
  agents: ReadonlySet<string>,
  out: (line: ControlOutput) => void,
): Interface {
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === '') return;
    const command = parseControl(line);
    const refuse = (reason: string) => out({ type: 'control.error', line, reason });
    if ('error' in command) return refuse(command.error);
    switch (command.op) {
      case 'inject': {
        if (!agents.has(command.to)) return refuse(`no agent named "${command.to}"`);
        const problem = runtime.inject(command.to, command.kind, command.payload);
        return problem ? refuse(problem) : undefined;
      }
      case 'reinject': {
        const problem = runtime.reinject(command.id);
        return problem ? refuse(problem) : undefined;
      }
      case 'kill':
        if (!agents.has(command.agent)) return refuse(`no agent named "${command.agent}"`);
        return runtime.kill(command.agent);
      case 'dead-letters': {
        const letters = runtime.deadLetters().map(({ envelope, reason, tick }) => ({
          id: envelopeId(envelope),
          from: envelope.from ?? '',
          to: envelope.to ?? '',
          kind: envelope.kind ?? '',
          reason,
          tick,
        }));
        return out({ type: 'dead-letters', letters });
      }
      case 'stop':
        return runtime.requestStop('stopped by a control command');
    }
  });
  return input;
}
