// Reads control commands from stdin for `troupe run --control` and carries them out.
import { createInterface, type Interface } from 'node:readline';
import { envelopeId } from '../protocol/index.js';
import type { Runtime } from '../supervisor/index.js';
import { CONTROL_HELP, parseControl } from './control.js';

/** A line the CLI prints about a command: an answer, or why the command was refused. */
export type ControlOutput =
  | { type: 'control.ready'; help: string }
  | { type: 'control.ok'; command: string }
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
  out({ type: 'control.ready', help: CONTROL_HELP });
  input.on('line', (line) => {
    if (line.trim() === '') return;
    const command = parseControl(line);
    const refuse = (reason: string) => out({ type: 'control.error', line, reason });
    const done = (problem?: string) =>
      problem ? refuse(problem) : out({ type: 'control.ok', command: line.trim() });
    if ('error' in command) return refuse(command.error);
    switch (command.op) {
      case 'inject':
        if (!agents.has(command.to)) return refuse(`no agent named "${command.to}"`);
        return done(runtime.inject(command.to, command.kind, command.payload));
      case 'reinject':
        return done(runtime.reinject(command.id));
      case 'kill':
        if (!agents.has(command.agent)) return refuse(`no agent named "${command.agent}"`);
        runtime.kill(command.agent);
        return done();
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
        done();
        return runtime.requestStop('stopped by a control command');
    }
  });
  return input;
}
