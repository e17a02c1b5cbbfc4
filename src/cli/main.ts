// The `troupe` command: argument parsing and dispatch only.
import { parseArgs } from 'node:util';
import { errorText } from '../protocol/index.js';
import {
  actorSchema,
  ConfigError,
  type Isolation,
  SYNC_POLICIES,
  type SyncPolicy,
  systemSchema,
} from '../supervisor/index.js';
import { CONTROL_HELP } from './control.js';
import { inspectCommand } from './inspect-command.js';
import { inspectTick } from './inspect-tick.js';
import { modelsCommand } from './models-command.js';
import { replayCommand } from './replay-command.js';
import { runCommand, TROUPE_VERSION } from './run-command.js';
import { UsageError } from './usage-error.js';
import { validateCommand } from './validate-command.js';

const USAGE = `usage:
  troupe run <system.yaml> [--seed N] [--isolation process|thread|shared] [--max-ticks N] [--until-idle] [--json]
            [--control] [--root DIR]
            [--journal FILE [--journal-sync tick|interval|none] [--resume [--force]]]
            [--dashboard [--port N]]
  troupe replay <journal> [--system FILE] [--isolation MODE] [--force] [--json] [--root DIR]
  troupe inspect <journal> [--tick N [--agent A]] [--json] [--root DIR]
  troupe models <system.yaml> [--json] [--root DIR]
  troupe validate <system.yaml | actor.yaml> [--root DIR]
  troupe schema [system | actor]
  troupe --version

exit codes: 0 ok, 1 bad usage or invalid config, 2 the system stopped on a failure

--control reads commands from stdin; ${CONTROL_HELP.replace('control commands (one JSON object per line on stdin):', 'one JSON object per line:')}`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      isolation: { type: 'string' },
      'max-ticks': { type: 'string' },
      'until-idle': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      control: { type: 'boolean', default: false },
      journal: { type: 'string' },
      system: { type: 'string' },
      force: { type: 'boolean', default: false },
      resume: { type: 'boolean', default: false },
      tick: { type: 'string' },
      agent: { type: 'string' },
      'journal-sync': { type: 'string', default: 'tick' },
      root: { type: 'string' },
      dashboard: { type: 'boolean', default: false },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', default: false },
    },
  });
  const [command, file, ...extra] = positionals;
  if (values.version) return print(version());
  if (values.help || !command) return print(USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  switch (command) {
    case 'run':
      if (!file) throw new UsageError('troupe run needs a system file');
      return runCommand({
        file,
        seed: integerFlag('--seed', values.seed, 0, 2 ** 32 - 1),
        isolation: isolationFlag(values.isolation),
        maxTicks: integerFlag('--max-ticks', values['max-ticks'], 1, Number.MAX_SAFE_INTEGER),
        untilIdle: values['until-idle'] ?? false,
        json: values.json ?? false,
        root: values.root,
        control: values.control ?? false,
        journal: values.journal,
        journalSync: syncPolicy(values['journal-sync']),
        resume: values.resume ?? false,
        force: values.force ?? false,
        dashboard: values.dashboard ?? false,
        port: integerFlag('--port', values.port, 0, 65535),
      });
    case 'models':
      if (!file) throw new UsageError('troupe models needs a system file');
      return modelsCommand(file, { json: values.json ?? false, root: values.root });
    case 'validate':
      if (!file) throw new UsageError('troupe validate needs a file');
      return validateCommand(file, values.root);
    case 'replay':
      if (!file) throw new UsageError('troupe replay needs a journal file');
      return replayCommand({
        journal: file,
        system: values.system,
        root: values.root,
        force: values.force ?? false,
        json: values.json ?? false,
        isolation: isolationFlag(values.isolation),
      });
    case 'inspect': {
      if (!file) throw new UsageError('troupe inspect needs a journal file');
      const tick = integerFlag('--tick', values.tick, 1, Number.MAX_SAFE_INTEGER);
      if (tick === undefined) {
        if (values.agent !== undefined) throw new UsageError('--agent goes with --tick');
        return inspectCommand(file, values.json ?? false);
      }
      return inspectTick({
        journal: file,
        tick,
        agent: values.agent,
        json: values.json ?? false,
        root: values.root,
      });
    }
    case 'schema': {
      const kind = file ?? 'system';
      if (kind !== 'system' && kind !== 'actor')
        throw new UsageError(`unknown schema "${kind}" (system or actor)`);
      return print(JSON.stringify(kind === 'system' ? systemSchema : actorSchema, null, 2));
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
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
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`troupe: ${errorText(error)}\n\n${USAGE}\n`);
    } else {
      process.stderr.write(`troupe: ${(error as Error).stack ?? String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
