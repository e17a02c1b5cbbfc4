// `troupe run`: loads a system, runs it on the Node backend, prints events, exits by outcome.
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../launch/index.js';
import { loadSystem, Runtime, type RuntimeEvent } from '../supervisor/index.js';
import { listenForCommands } from './control-stdin.js';
import { formatControl, formatEvent } from './format.js';

export interface RunFlags {
  file: string;
  seed?: number;
  maxTicks?: number;
  untilIdle: boolean;
  json: boolean;
  root?: string;
  /** Read control commands (JSON lines) from stdin. */
  control: boolean;
}

export const HOST_ENTRY = fileURLToPath(new URL('../actors/host-main.js', import.meta.url));

/** Resolves to the process exit code: 0 for a normal end, 2 when the system stopped on failure. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const loaded = loadSystem(flags.file, { root: flags.root });
  const spec = flags.seed === undefined ? loaded : { ...loaded, seed: flags.seed };
  const width = Math.max(...spec.agents.map((agent) => agent.name.length));
  const print = (event: RuntimeEvent) => {
    // Per-tick events feed the dashboard; on a terminal they would drown everything else.
    if (event.type === 'tick') return;
    const line = flags.json ? JSON.stringify(jsonEvent(event)) : formatEvent(event, width);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry: HOST_ENTRY,
    maxTicks: flags.maxTicks,
    untilIdle: flags.untilIdle,
    onEvent: print,
  });
  let interrupts = 0;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) runtime.requestStop(`interrupted by ${signal}`);
    // A second interrupt means "now": the hosts notice the closed channel and exit on their own.
    else process.exit(130);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const done = runtime.start();
  const names = new Set(spec.agents.map((agent) => agent.name));
  const control = flags.control
    ? listenForCommands(runtime, names, (line) => {
        const text = flags.json ? JSON.stringify(line) : formatControl(line);
        process.stdout.write(`${text}\n`);
      })
    : undefined;
  const summary = await done;
  control?.close();
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  return summary.ok ? 0 : 2;
}

// The summary rides along in run.end for the pretty printer; in JSON its totals are enough.
function jsonEvent(event: RuntimeEvent): object {
  if (event.type !== 'run.end') return event;
  const { summary, ...rest } = event;
  return {
    ...rest,
    deadLetters: summary.deadLetters,
    rejectedFrames: summary.rejectedFrames,
    agents: summary.agents,
  };
}
