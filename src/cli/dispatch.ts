// Each command's arguments, from parsed flags to the call that runs it: one small function per
// command, named in HANDLERS. main.ts parses and reports errors.
import { NAME_PATTERN } from '../cluster/index.js';
import {
  actorSchema,
  type Isolation,
  SYNC_POLICIES,
  type SyncPolicy,
  suggestion,
  systemSchema,
} from '../supervisor/index.js';
import { attach } from './attach-command.js';
import { clusterCommand } from './cluster-command.js';
import { COMMANDS, commandHelp, overview } from './commands.js';
import { exportCommand } from './export-command.js';
import { initCommand } from './init-command.js';
import { inspectCommand } from './inspect-command.js';
import { inspectTick } from './inspect-tick.js';
import { compareCommand, travelCommand } from './inspect-travel.js';
import { modelsCommand } from './models-command.js';
import { natsConfigCommand } from './nats-config-command.js';
import { nodeCommand } from './node-command.js';
import { replayCommand } from './replay-command.js';
import { runCommand, TROUPE_VERSION } from './run-command.js';
import { toolsCommand } from './tools-command.js';
import { UsageError } from './usage-error.js';
import { validateCommand } from './validate-command.js';

/** A command line, parsed: the command, its first positional (usually a file) and its flags. */
export interface Invocation {
  command: string;
  file: string | undefined;
  /** Positionals after the first (only `attach` takes any). */
  extra: string[];
  text(name: string): string | undefined;
  flag(name: string): boolean;
}

type Handler = (call: Invocation) => number | Promise<number>;

/** The first positional, or a usage error saying what the command needs there. */
function needs(call: Invocation, what: string): string {
  if (!call.file) throw new UsageError(`troupe ${call.command} needs ${what}`, call.command);
  return call.file;
}

/** The flags `run` and `cluster` share (commands.ts RUN_FLAGS). */
function runShape({ text, flag }: Invocation) {
  return {
    seed: integerFlag('--seed', text('seed'), 0, 2 ** 32 - 1),
    isolation: isolationFlag(text('isolation')),
    maxTicks: integerFlag('--max-ticks', text('max-ticks'), 1, Number.MAX_SAFE_INTEGER),
    untilIdle: flag('until-idle'),
    json: flag('json'),
    root: text('root'),
    journal: text('journal'),
    journalSync: syncPolicy(text('journal-sync')),
    resume: flag('resume'),
    force: flag('force'),
  };
}

const port = (call: Invocation) => integerFlag('--port', call.text('port'), 0, 65535);

function run(call: Invocation): Promise<number> {
  const file = needs(call, 'a system file');
  const { flag } = call;
  return runCommand({
    ...runShape(call),
    file,
    control: flag('control'),
    dashboard: flag('dashboard'),
    port: port(call),
    watch: flag('watch'),
  });
}

function cluster(call: Invocation): Promise<number> {
  const file = needs(call, 'a system file');
  const { text, flag } = call;
  const nodes = integerFlag('--nodes', text('nodes'), 1, 64);
  if (nodes === undefined) throw new UsageError('troupe cluster needs --nodes N', call.command);
  return clusterCommand({
    ...runShape(call),
    file,
    nodes,
    nats: text('nats'),
    gpuNode: text('gpu-node'),
    standby: flag('standby'),
    follow: flag('follow'),
    dashboard: flag('dashboard'),
    port: port(call),
    control: flag('control'),
    watch: flag('watch'),
  });
}

function node(call: Invocation): Promise<number> {
  const file = needs(call, 'a system file');
  const name = call.text('name');
  const nats = call.text('nats');
  if (!name || !NAME_PATTERN.test(name))
    throw new UsageError('troupe node needs --name NAME (letters, digits, _ and -)', call.command);
  if (!nats) throw new UsageError('troupe node needs --nats URL', call.command);
  return nodeCommand({ file, name, nats, json: call.flag('json') });
}

function replay(call: Invocation): Promise<number> {
  const journal = needs(call, 'a journal file');
  const { text, flag } = call;
  return replayCommand({
    journal,
    system: text('system'),
    root: text('root'),
    force: flag('force'),
    json: flag('json'),
    isolation: isolationFlag(text('isolation')),
  });
}

function inspect(call: Invocation): number | Promise<number> {
  const journal = needs(call, 'a journal file');
  const { text, flag, command } = call;
  const tick = integerFlag('--tick', text('tick'), 1, Number.MAX_SAFE_INTEGER);
  const travel = {
    journal,
    compare: text('compare'),
    dashboard: flag('dashboard'),
    port: port(call),
    json: flag('json'),
    root: text('root'),
    force: flag('force'),
  };
  if (travel.dashboard || travel.compare !== undefined) {
    if (tick !== undefined) throw new UsageError('--tick does not go with --dashboard or --compare', command);
    return travel.dashboard ? travelCommand(travel) : compareCommand(travel);
  }
  if (text('port') !== undefined || travel.force)
    throw new UsageError(
      `${text('port') !== undefined ? '--port' : '--force'} goes with --dashboard`,
      command,
    );
  if (tick === undefined) {
    if (text('agent') !== undefined) throw new UsageError('--agent goes with --tick', command);
    return inspectCommand(journal, flag('json'));
  }
  return inspectTick({ journal, tick, agent: text('agent'), json: flag('json'), root: text('root') });
}

function schema(call: Invocation): number {
  const kind = call.file ?? 'system';
  if (kind !== 'system' && kind !== 'actor')
    throw new UsageError(
      `unknown schema "${kind}" (system or actor)${suggestion(kind, ['system', 'actor'])}`,
      call.command,
    );
  return print(JSON.stringify(kind === 'system' ? systemSchema : actorSchema, null, 2));
}

function help(call: Invocation): number {
  const { file } = call;
  if (!file) return print(overview());
  if (!COMMANDS[file])
    throw new UsageError(`unknown command "${file}"${suggestion(file, Object.keys(COMMANDS))}`);
  return print(commandHelp(file));
}

/** Every command's handler; a command in COMMANDS without one shows the help. */
export const HANDLERS: Record<string, Handler> = {
  attach: (call) => {
    if (!call.file) throw new UsageError('troupe attach needs the dashboard URL', call.command);
    return attach(call.file, call.extra, call.flag('json'));
  },
  run,
  cluster,
  node,
  'nats-config': (call) =>
    natsConfigCommand({
      file: needs(call, 'a system file'),
      nodes: call.text('nodes'),
      out: call.text('out'),
      jetstream: call.flag('jetstream'),
    }),
  export: (call) =>
    exportCommand({
      journal: needs(call, 'a journal in JetStream (js:NAME)'),
      nats: call.text('nats'),
      out: call.text('out'),
    }),
  models: (call) =>
    modelsCommand(needs(call, 'a system file'), { json: call.flag('json'), root: call.text('root') }),
  tools: (call) =>
    toolsCommand(needs(call, 'a system file'), { json: call.flag('json'), root: call.text('root') }),
  validate: (call) => validateCommand(needs(call, 'a file'), call.text('root')),
  replay,
  inspect,
  schema,
  init: (call) => initCommand(needs(call, 'a folder'), call.text('name')),
  help,
};

/** Runs the command: `attach` takes further arguments, no other command does. */
export function dispatch(call: Invocation): number | Promise<number> {
  if (call.command !== 'attach' && call.extra.length > 0)
    throw new UsageError(`unexpected argument "${call.extra[0]}"`, call.command);
  return (HANDLERS[call.command] ?? help)(call);
}

export function version(): string {
  return `troupe ${TROUPE_VERSION}`;
}

export function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function integerFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return number;
}

function isolationFlag(value: string | undefined): Isolation | undefined {
  if (value === undefined) return undefined;
  if (value === 'process' || value === 'thread' || value === 'shared') return value;
  throw new UsageError(`--isolation must be process, thread or shared (got "${value}")`);
}

function syncPolicy(value: string | undefined): SyncPolicy {
  const policy = (value ?? 'tick') as SyncPolicy;
  if (!SYNC_POLICIES.includes(policy)) {
    throw new UsageError(`--journal-sync must be one of ${SYNC_POLICIES.join(', ')} (got "${value}")`);
  }
  return policy;
}
