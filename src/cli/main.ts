// The `troupe` command: argument parsing and dispatch only.
import { parseArgs } from 'node:util';
import { errorText } from '../protocol/index.js';
import { ConfigError, JournalOpenError, suggestion } from '../supervisor/index.js';
import { COMMANDS, type CommandInfo, commandHelp, overview } from './commands.js';
import { dispatch, print, version } from './dispatch.js';
import { terminalText } from './terminal-text.js';
import { CommandError, UsageError } from './usage-error.js';

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
  if (values.help) return print(commandHelp(command));
  const [file, ...extra] = parsed.positionals;
  return dispatch({
    command,
    file,
    extra,
    text: (name) => values[name] as string | undefined,
    flag: (name) => (values[name] as boolean | undefined) ?? false,
  });
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
