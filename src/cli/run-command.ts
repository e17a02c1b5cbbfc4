// `troupe run`: loads a system, runs it on the Node backend, prints events, exits by outcome.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NodeLauncher } from '../launch/index.js';
import {
  JournalWriter,
  journalHeader,
  loadSystem,
  ReplayDriver,
  ReplayPlan,
  type RunSummary,
  Runtime,
  type RuntimeEvent,
  type RuntimeOptions,
  type SyncPolicy,
  type SystemSpec,
} from '../supervisor/index.js';
import { listenForCommands } from './control-stdin.js';
import { formatControl, formatEvent } from './format.js';
import { openJournalFor } from './journal-open.js';
import { UsageError } from './usage-error.js';

export interface RunFlags {
  file: string;
  seed?: number;
  maxTicks?: number;
  untilIdle: boolean;
  json: boolean;
  root?: string;
  /** Read control commands (JSON lines) from stdin. */
  control: boolean;
  journal?: string;
  journalSync: SyncPolicy;
  /** Continue the run recorded in `journal`: replay it to its last tick, then go on live. */
  resume: boolean;
  force: boolean;
}

export const HOST_ENTRY = fileURLToPath(new URL('../actors/host-main.js', import.meta.url));

export const TROUPE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Resolves to the process exit code: 0 for a normal end, 2 when the system stopped on failure. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const { maxTicks, untilIdle } = flags;
  if (flags.resume) {
    if (!flags.journal)
      throw new UsageError('--resume needs --journal FILE, the journal of the run to continue');
    const options = { system: flags.file, root: flags.root, force: flags.force, cutTornTail: true };
    const { records, spec, checkpointEvery } = openJournalFor(flags.journal, options);
    const replay = new ReplayDriver(new ReplayPlan(records));
    const journal = new JournalWriter(flags.journal, flags.journalSync);
    const summary = await runSystem(spec, { journal, replay, maxTicks, untilIdle, checkpointEvery }, flags);
    return summary.ok ? 0 : 2;
  }
  const loaded = loadSystem(flags.file, { root: flags.root });
  const spec = flags.seed === undefined ? loaded : { ...loaded, seed: flags.seed };
  const journal = flags.journal ? openJournal(flags.journal, flags.journalSync, spec) : undefined;
  const summary = await runSystem(spec, { journal, maxTicks, untilIdle }, flags);
  return summary.ok ? 0 : 2;
}

/** Runs a system on the Node backend, printing its events, until it ends or is interrupted. */
export async function runSystem(
  spec: SystemSpec,
  options: Pick<RuntimeOptions, 'journal' | 'replay' | 'maxTicks' | 'untilIdle' | 'checkpointEvery'>,
  output: { json: boolean; control?: boolean },
): Promise<RunSummary> {
  const width = Math.max(...spec.agents.map((agent) => agent.name.length));
  const print = (event: RuntimeEvent) => {
    // Per-tick events feed the dashboard; on a terminal they would drown everything else.
    if (event.type === 'tick') return;
    const line = output.json ? JSON.stringify(jsonEvent(event)) : formatEvent(event, width);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
  const runtime = new Runtime(spec, {
    ...options,
    launcher: new NodeLauncher(),
    hostEntry: HOST_ENTRY,
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
  const control = output.control
    ? listenForCommands(runtime, names, (line) => {
        const text = output.json ? JSON.stringify(line) : formatControl(line);
        process.stdout.write(`${text}\n`);
      })
    : undefined;
  const summary = await done;
  control?.close();
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  return summary;
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
    ...(summary.models ? { models: summary.models } : {}),
  };
}

function openJournal(path: string, sync: SyncPolicy, spec: SystemSpec): JournalWriter {
  if (existsSync(path))
    throw new UsageError(`journal ${path} already exists; remove it or choose another file`);
  let writer: JournalWriter;
  try {
    writer = new JournalWriter(path, sync);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : (error as Error).message;
    throw new UsageError(`cannot create journal ${path}: ${why}`);
  }
  writer.write(journalHeader(spec, TROUPE_VERSION));
  return writer;
}
