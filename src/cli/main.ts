// The `troupe` command: argument parsing and dispatch only.
import { parseArgs } from 'node:util';
import { NAME_PATTERN } from '../cluster/index.js';
import { errorText } from '../protocol/index.js';
import {
  actorSchema,
  ConfigError,
  type Isolation,
  JournalOpenError,
  SYNC_POLICIES,
  type SyncPolicy,
  suggestion,
  systemSchema,
} from '../supervisor/index.js';
import { attach } from './attach-command.js';
import { clusterCommand } from './cluster-command.js';
import { COMMANDS, type CommandInfo, commandHelp, overview } from './commands.js';
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
import { terminalText } from './terminal-text.js';
import { CommandError, UsageError } from './usage-error.js';
import { validateCommand } from './validate-command.js';

async function main(argv: string[]): Promise<number> {
  const at = argv.findIndex((arg) => !arg.startsWith('-'));
  if (at === -1) {
    if (argv.includes('--version')) return print(version());
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) return print(overview());
    throw new UsageError(`unknown option "${argv[0]}"${suggestion(argv[0] ?? '', ['--help', '--version'])}`);
  }
  const command = argv[at] as string;
  const info = COMMANDS[command];
  if (!info)
    throw new UsageError(`unknown command "${command}"${suggestion(command, Object.keys(COMMANDS))}`);
  const parsed = parseCommand(command, info, [...argv.slice(0, at), ...argv.slice(at + 1)]);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  if (values.help) return print(commandHelp(command));
  const [file, ...extra] = positionals;
  const text = (name: string) => values[name] as string | undefined;
  const flag = (name: string) => (values[name] as boolean | undefined) ?? false;
  // The flags `run` and `cluster` share (commands.ts RUN_FLAGS).
  const runShape = () => ({
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
  });
  if (command === 'attach') {
    if (!file) throw new UsageError('troupe attach needs the dashboard URL', command);
    return attach(file, extra, flag('json'));
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, command);
  switch (command) {
    case 'run':
      if (!file) throw new UsageError('troupe run needs a system file', command);
      return runCommand({
        ...runShape(),
        file,
        control: flag('control'),
        dashboard: flag('dashboard'),
        port: integerFlag('--port', text('port'), 0, 65535),
        watch: flag('watch'),
      });
    case 'cluster': {
      if (!file) throw new UsageError('troupe cluster needs a system file', command);
      const nodes = integerFlag('--nodes', text('nodes'), 1, 64);
      if (nodes === undefined) throw new UsageError('troupe cluster needs --nodes N', command);
      return clusterCommand({
        ...runShape(),
        file,
        nodes,
        nats: text('nats'),
        gpuNode: text('gpu-node'),
        standby: flag('standby'),
        follow: flag('follow'),
        dashboard: flag('dashboard'),
        port: integerFlag('--port', text('port'), 0, 65535),
        control: flag('control'),
        watch: flag('watch'),
      });
    }
    case 'node': {
      if (!file) throw new UsageError('troupe node needs a system file', command);
      const name = text('name');
      const nats = text('nats');
      if (!name || !NAME_PATTERN.test(name))
        throw new UsageError('troupe node needs --name NAME (letters, digits, _ and -)', command);
      if (!nats) throw new UsageError('troupe node needs --nats URL', command);
      return nodeCommand({ file, name, nats, json: flag('json') });
    }
    case 'nats-config':
      if (!file) throw new UsageError('troupe nats-config needs a system file', command);
      return natsConfigCommand({
        file,
        nodes: text('nodes'),
        out: text('out'),
        jetstream: flag('jetstream'),
      });
    case 'export':
      if (!file) throw new UsageError('troupe export needs a journal in JetStream (js:NAME)', command);
      return exportCommand({ journal: file, nats: text('nats'), out: text('out') });
    case 'models':
      if (!file) throw new UsageError('troupe models needs a system file', command);
      return modelsCommand(file, { json: flag('json'), root: text('root') });
    case 'validate':
      if (!file) throw new UsageError('troupe validate needs a file', command);
      return validateCommand(file, text('root'));
    case 'replay':
      if (!file) throw new UsageError('troupe replay needs a journal file', command);
      return replayCommand({
        journal: file,
        system: text('system'),
        root: text('root'),
        force: flag('force'),
        json: flag('json'),
        isolation: isolationFlag(text('isolation')),
      });
    case 'inspect': {
      if (!file) throw new UsageError('troupe inspect needs a journal file', command);
      const tick = integerFlag('--tick', text('tick'), 1, Number.MAX_SAFE_INTEGER);
      const travel = {
        journal: file,
        compare: text('compare'),
        dashboard: flag('dashboard'),
        port: integerFlag('--port', text('port'), 0, 65535),
        json: flag('json'),
        root: text('root'),
        force: flag('force'),
      };
      if (travel.dashboard || travel.compare !== undefined) {
        if (tick !== undefined)
          throw new UsageError('--tick does not go with --dashboard or --compare', command);
        return travel.dashboard ? travelCommand(travel) : compareCommand(travel);
      }
      if (text('port') !== undefined || travel.force)
        throw new UsageError(
          `${text('port') !== undefined ? '--port' : '--force'} goes with --dashboard`,
          command,
        );
      if (tick === undefined) {
        if (text('agent') !== undefined) throw new UsageError('--agent goes with --tick', command);
        return inspectCommand(file, flag('json'));
      }
      return inspectTick({
        journal: file,
        tick,
        agent: text('agent'),
        json: flag('json'),
        root: text('root'),
      });
    }
    case 'schema': {
      const kind = file ?? 'system';
      if (kind !== 'system' && kind !== 'actor')
        throw new UsageError(
          `unknown schema "${kind}" (system or actor)${suggestion(kind, ['system', 'actor'])}`,
          command,
        );
      return print(JSON.stringify(kind === 'system' ? systemSchema : actorSchema, null, 2));
    }
    case 'init':
      if (!file) throw new UsageError('troupe init needs a folder', command);
      return initCommand(file, text('name'));
    default: {
      if (!file) return print(overview());
      if (!COMMANDS[file])
        throw new UsageError(`unknown command "${file}"${suggestion(file, Object.keys(COMMANDS))}`);
      return print(commandHelp(file));
    }
  }
}

/** The command's flags, strictly: an unknown one is named, with the nearest known one. */
function parseCommand(command: string, info: CommandInfo, args: string[]) {
  const options = { ...info.options, help: { type: 'boolean', short: 'h', default: false } } as const;
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (error) {
    const given = errorText(error).match(/'(-[^']*)'/)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && given) {
      const known = Object.keys(options).map((name) => `--${name}`);
      throw new UsageError(
        `unknown option "${given}" for troupe ${command}${suggestion(given, known)}`,
        command,
      );
    }
    throw new UsageError(errorText(error).split('. ')[0] ?? errorText(error), command);
  }
}

function integerFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return number;
}

function version(): string {
  return `troupe ${TROUPE_VERSION}`;
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

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

// A reader that goes away (`troupe inspect FILE | head`) is not an error: stop quietly, as
// command-line tools do on SIGPIPE. Hosts see their parent go and exit too.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Errors can quote what an agent, a journal or a file said: escaped for the terminal.
    if (error instanceof ConfigError) {
      process.stderr.write(`${terminalText(error.message)}\n`);
    } else if (error instanceof CommandError || error instanceof JournalOpenError) {
      process.stderr.write(`troupe: ${terminalText(error.message)}\n`);
    } else if (error instanceof UsageError) {
      const help = error.command ? commandHelp(error.command) : overview();
      process.stderr.write(`troupe: ${terminalText(errorText(error))}\n\n${help}\n`);
    } else {
      process.stderr.write(`troupe: ${(error as Error).stack ?? String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
