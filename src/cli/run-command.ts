// `troupe run`: loads a system, runs it on the Node backend, prints events, exits by outcome.
import { existsSync, readFileSync } from 'node:fs';
import { NodeLauncher } from '../launch/index.js';
import { errorText } from '../protocol/index.js';
import {
  JournalWriter,
  journalHeader,
  loadSystem,
  openJournalFor,
  ReplaySource,
  type RunSummary,
  Runtime,
  type RuntimeEvent,
  type RuntimeOptions,
  type SyncPolicy,
  type SystemSpec,
} from '../supervisor/index.js';
import { listenForCommands } from './control-stdin.js';
import { runDashboard } from './dashboard-command.js';
import { formatControl } from './format.js';
import { type RunFlags, withFlags } from './run-flags.js';
import { eventPrinter, HOST_ENTRY, onSignals, printLine } from './run-output.js';
import { CommandError, UsageError } from './usage-error.js';
import { watchModules } from './watch.js';

export const TROUPE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Resolves to the process exit code: 0 for a normal end, 2 when the system stopped on failure. */
export async function runCommand(flags: RunFlags): Promise<number> {
  const { maxTicks, untilIdle } = flags;
  if (flags.dashboard) {
    if (flags.journal || flags.resume || flags.control) {
      throw new UsageError(
        '--dashboard does not go with --journal, --resume or --control (the dashboard has its own controls)',
      );
    }
    const summary = await runDashboard(flags);
    return summary.ok ? 0 : 2;
  } else if (flags.port !== undefined) {
    throw new UsageError('--port goes with --dashboard');
  }
  if (flags.watch && (flags.journal || flags.resume || flags.dashboard)) {
    // A reload is not an input a journal can replay: the module on disk has changed.
    throw new UsageError('--watch does not go with --journal, --resume or --dashboard', 'run');
  }
  if (flags.resume) {
    const { spec, ...resumed } = openResumed(flags);
    const summary = await runSystem(spec, { ...resumed, maxTicks, untilIdle }, flags);
    return summary.ok ? 0 : 2;
  }
  const spec = withFlags(loadSystem(flags.file, { root: flags.root }), flags);
  const journal = flags.journal ? openJournal(flags.journal, flags.journalSync, spec) : undefined;
  const outside = journal ? undefined : answeredOutside(spec);
  if (outside)
    process.stderr.write(
      `troupe: this run is live: its trace depends on what ${outside} answer; --journal FILE records the answers so that the run replays\n`,
    );
  const summary = await runSystem(spec, { journal, maxTicks, untilIdle }, flags);
  return summary.ok ? 0 : 2;
}

/** Runs a system on the Node backend, printing its events, until it ends or is interrupted. */
export async function runSystem(
  spec: SystemSpec,
  options: Pick<
    RuntimeOptions,
    'journal' | 'replay' | 'maxTicks' | 'untilIdle' | 'checkpointEvery' | 'hostLauncher' | 'gpuLauncher'
  >,
  output: {
    json: boolean;
    control?: boolean;
    watch?: boolean;
    muted?: () => boolean;
    beforeEnd?: () => void;
  },
  attach?: (runtime: Runtime) => void,
): Promise<RunSummary> {
  const printAll = eventPrinter(spec, output.json, output.beforeEnd);
  // A standby following a run keeps its replay of it quiet until it takes the run over.
  const { muted } = output;
  const print = muted
    ? (event: RuntimeEvent) => {
        if (!muted()) printAll(event);
      }
    : printAll;
  const runtime = new Runtime(spec, {
    ...options,
    launcher: new NodeLauncher(),
    hostEntry: HOST_ENTRY,
    onEvent: print,
  });
  const done = runtime.start();
  attach?.(runtime);
  const stopOnSignals = onSignals((signal) => runtime.requestStop(`interrupted by ${signal}`));
  const names = new Set(spec.agents.map((agent) => agent.name));
  const control = output.control
    ? listenForCommands(runtime, names, (line) => {
        const text = output.json ? JSON.stringify(line) : formatControl(line);
        process.stdout.write(`${text}\n`);
      })
    : undefined;
  const stopWatching = output.watch
    ? watchModules(spec, (agent) => {
        note(output.json, { type: 'watch.reload', agent }, `${agent}: its source changed; reloading`);
        runtime.reload(agent).then((refusal) => {
          if (refusal)
            note(
              output.json,
              { type: 'watch.refused', agent, reason: refusal },
              `${agent}: not reloaded: ${refusal}`,
            );
        });
      })
    : undefined;
  const summary = await done;
  stopWatching?.();
  control?.close();
  stopOnSignals();
  return summary;
}

/** What answers this system's agents from outside Troupe (remote models, tool servers), in words. */
function answeredOutside(spec: SystemSpec): string | undefined {
  const models = spec.models.filter((model) => model.remote).map((model) => `model "${model.name}"`);
  const tools = spec.tools.map((tool) => `tool server "${tool.name}"`);
  const all = [...models, ...tools];
  if (all.length === 0) return undefined;
  return all.length === 1 ? all[0] : `${all.slice(0, -1).join(', ')} and ${all.at(-1)}`;
}

function note(json: boolean, event: object, text: string): void {
  printLine(json, event, `       ${text}`);
}

/** A run to continue from its journal (--resume): its system, the replay and the journal to extend. */
export function openResumed(
  flags: Pick<RunFlags, 'file' | 'root' | 'force' | 'journal' | 'journalSync' | 'isolation'>,
): { spec: SystemSpec } & Pick<RuntimeOptions, 'journal' | 'replay' | 'checkpointEvery'> {
  if (!flags.journal)
    throw new UsageError('--resume needs --journal FILE, the journal of the run to continue');
  const options = { system: flags.file, root: flags.root, force: flags.force, cutTornTail: true };
  const { records, chain, checkpointEvery, spec } = openJournalFor(flags.journal, options);
  return {
    // The isolation may change on resume (it is not part of the recording); the seed may not.
    spec: withFlags(spec, { isolation: flags.isolation }),
    replay: new ReplaySource(records),
    journal: new JournalWriter(flags.journal, flags.journalSync, { chain }),
    checkpointEvery,
  };
}

export function openJournal(path: string, sync: SyncPolicy, spec: SystemSpec): JournalWriter {
  if (existsSync(path))
    throw new CommandError(`journal ${path} already exists; remove it or choose another file`);
  let writer: JournalWriter;
  try {
    writer = new JournalWriter(path, sync);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : errorText(error);
    throw new CommandError(`cannot create journal ${path}: ${why}`);
  }
  writer.write(journalHeader(spec, TROUPE_VERSION));
  return writer;
}
