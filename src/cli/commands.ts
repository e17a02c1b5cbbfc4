// The `troupe` subcommands: their flags and the help each prints (`troupe help CMD`, `CMD --help`).
import type { ParseArgsConfig } from 'node:util';
import { CONTROL_HELP } from './control.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandInfo {
  summary: string;
  usage: string;
  /** Flag lines shown under the usage, one per flag. */
  flags: string[];
  options: Options;
  /** What follows the flags in its help. */
  more?: string;
}

const root = { root: { type: 'string' } } as const;
const ROOT_FLAG =
  '--root DIR              project root: files may not reach outside it (default: nearest package.json folder)';
const JSON_FLAG = '--json                  one JSON object per line instead of text';

/** What `run` and `cluster` share: how long the run goes, its seed, isolation and journal. */
const RUN_FLAGS = {
  lines: [
    '--seed N                override the system seed (same seed, same run)',
    "--isolation MODE        host every agent as process, thread or shared (default: each actor's own)",
    '--max-ticks N           stop after N ticks',
    '--until-idle            stop when no agent has mail, and print the summary',
  ],
  journal: [
    '--journal FILE          record every input, so the run can be replayed or resumed',
    '--journal-sync POLICY   tick (default), interval or none: when the journal is flushed to disk',
    '--resume                continue the run recorded in --journal FILE after a crash',
    '--force                 with --resume: accept a journal of a changed system file',
  ],
  options: {
    seed: { type: 'string' },
    isolation: { type: 'string' },
    'max-ticks': { type: 'string' },
    'until-idle': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    journal: { type: 'string' },
    'journal-sync': { type: 'string', default: 'tick' },
    resume: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  },
} as const;

export const COMMANDS: Record<string, CommandInfo> = {
  run: {
    summary: 'run a system until it stops (or ends, with --until-idle)',
    usage: 'troupe run <system.yaml> [flags]',
    flags: [
      ...RUN_FLAGS.lines,
      JSON_FLAG,
      '--control               read commands from standard input (see below)',
      ...RUN_FLAGS.journal,
      '--dashboard             serve the supervisor window on 127.0.0.1 (a URL with a token is printed)',
      "--port N                the dashboard's port (default: any free one)",
      "--watch                 restart an agent when its module's source changes",
      ROOT_FLAG,
    ],
    options: {
      ...RUN_FLAGS.options,
      control: { type: 'boolean', default: false },
      dashboard: { type: 'boolean', default: false },
      port: { type: 'string' },
      watch: { type: 'boolean', default: false },
      ...root,
    },
    more: `--control: ${CONTROL_HELP}`,
  },
  replay: {
    summary: 'run a journal again and check it gives the same trace',
    usage: 'troupe replay <journal> [flags]',
    flags: [
      '--system FILE           the system file to replay with (default: the one the journal names)',
      '--isolation MODE        host every agent as process, thread or shared',
      '--force                 replay even if the system file changed since the recording',
      JSON_FLAG,
      ROOT_FLAG,
    ],
    options: {
      system: { type: 'string' },
      isolation: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...root,
    },
  },
  inspect: {
    summary: "summarise a journal, or show one tick's deliveries and agent states",
    usage: 'troupe inspect <journal> [--tick N [--agent NAME] | --dashboard | --compare OTHER] [flags]',
    flags: [
      '--tick N                replay up to tick N and show what each agent held and received',
      '--agent NAME            with --tick: only this agent',
      '--dashboard             time travel in the window: replay once, then move to any tick',
      '--port N                with --dashboard: listen on this port (default: any free one)',
      '--compare OTHER         say where this journal and OTHER (same system) part; with',
      '                        --dashboard, open there',
      '--force                 with --dashboard: open even if the system changed since the',
      '                        recording (the window opens where the replay diverges)',
      JSON_FLAG,
      ROOT_FLAG,
    ],
    options: {
      tick: { type: 'string' },
      agent: { type: 'string' },
      dashboard: { type: 'boolean', default: false },
      port: { type: 'string' },
      compare: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...root,
    },
  },
  cluster: {
    summary: 'run a system on N nodes of a local cluster joined through NATS (development, tests)',
    usage: 'troupe cluster <system.yaml> --nodes N [flags]',
    flags: [
      "--nodes N               how many nodes (named by the system's placements, then node-1, …)",
      '--nats URL              use this NATS server (default: start one on 127.0.0.1 with a token)',
      "--gpu-node NAME         run the GPU host on this node (default: the coordinator's machine)",
      ...RUN_FLAGS.lines,
      ...RUN_FLAGS.journal,
      '--journal js:NAME       keep the journal in JetStream stream NAME on the --nats server instead',
      '--standby               with --journal js:NAME: wait while the coordinator beats; when it is',
      '                        gone, resume its run from the stream on the nodes still up',
      '--follow                with --standby: replay the run as it is recorded (hosts beside the',
      "                        coordinator's), so taking over replays only its last ticks",
      '--dashboard             serve the supervisor window on 127.0.0.1 (a URL with a token is printed)',
      "--port N                the dashboard's port (default: any free one)",
      '--control               read commands from standard input (as troupe run --control)',
      "--watch                 restart an agent when its module's source changes",
      JSON_FLAG,
      ROOT_FLAG,
    ],
    options: {
      nodes: { type: 'string' },
      nats: { type: 'string' },
      'gpu-node': { type: 'string' },
      standby: { type: 'boolean', default: false },
      follow: { type: 'boolean', default: false },
      dashboard: { type: 'boolean', default: false },
      port: { type: 'string' },
      control: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      ...RUN_FLAGS.options,
      ...root,
    },
    more: [
      'Credentials for --nats come from the environment: TROUPE_NATS_TOKEN (a token), TROUPE_NATS_NKEY',
      '(a file with an nkey seed), TROUPE_NATS_CREDS (a credentials file), or a user and password in',
      'the URL. See docs/cluster.md.',
    ].join('\n'),
  },
  node: {
    summary: 'run one node of a cluster: it hosts the agents placed on it',
    usage: 'troupe node <system.yaml> --name NAME --nats URL [flags]',
    flags: [
      "--name NAME             this node's name (what placement: names in the system file)",
      '--nats URL              the NATS server the cluster meets on',
      JSON_FLAG,
    ],
    options: {
      name: { type: 'string' },
      nats: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    more: [
      'A node reads only the name in the system file: the coordinator sends it the modules its hosts',
      'run. Credentials come from the environment: TROUPE_NATS_TOKEN, TROUPE_NATS_NKEY or',
      'TROUPE_NATS_CREDS. See docs/cluster.md.',
    ].join('\n'),
  },
  'nats-config': {
    summary: 'write credentials for a cluster on your own NATS server: one nkey per node and coordinator',
    usage: 'troupe nats-config <system.yaml> --nodes NAME,NAME,… --out DIR [--jetstream]',
    flags: [
      '--nodes NAMES           the nodes, comma-separated (their --name)',
      '--out DIR               a new folder for authorization.conf and one seed file per party',
      '--jetstream             let the coordinator keep its journal in JetStream (--journal js:)',
    ],
    options: {
      nodes: { type: 'string' },
      out: { type: 'string' },
      jetstream: { type: 'boolean', default: false },
    },
    more: [
      "Each party may publish and subscribe only on its own subjects: a node's credentials cannot act",
      'as another node or as the coordinator. See docs/cluster.md (Security).',
    ].join('\n'),
  },
  export: {
    summary: "copy a cluster's journal kept in JetStream to a file (for replay and inspect)",
    usage: 'troupe export js:NAME --nats URL --out FILE',
    flags: [
      '--nats URL              the NATS server the stream is on',
      '--out FILE              the journal file to write (it must not exist)',
    ],
    options: { nats: { type: 'string' }, out: { type: 'string' } },
    more: 'Credentials come from the environment, as for troupe cluster. See docs/cluster.md.',
  },
  models: {
    summary: "list a system's models and whether each loads",
    usage: 'troupe models <system.yaml> [flags]',
    flags: [JSON_FLAG, ROOT_FLAG],
    options: { json: { type: 'boolean', default: false }, ...root },
  },
  tools: {
    summary: "list a system's MCP tool servers, their tools and input schemas",
    usage: 'troupe tools <system.yaml> [flags]',
    flags: [JSON_FLAG, ROOT_FLAG],
    options: { json: { type: 'boolean', default: false }, ...root },
    more: 'Each server is started (or reached) and its tools listed; grants of tools a server lacks are named. See docs/tools.md.',
  },
  validate: {
    summary: 'check a system or actor file without running it',
    usage: 'troupe validate <system.yaml | actor.yaml> [flags]',
    flags: [ROOT_FLAG],
    options: { ...root },
  },
  schema: {
    summary: 'print the JSON schema of system or actor files',
    usage: 'troupe schema [system | actor]',
    flags: [],
    options: {},
  },
  init: {
    summary: 'start a project of your own: a system file and a TypeScript agent',
    usage: 'troupe init <folder> [--name NAME]',
    flags: ["--name NAME             the system's name (default: the folder's name)"],
    options: { name: { type: 'string' } },
    more: 'The folder must be new or empty. Then: cd <folder> && npm install && npm start',
  },
  attach: {
    summary: 'steer a running system through its dashboard URL: list agents, pause, step, kill, inject…',
    usage:
      'troupe attach <url> [agents | pause | resume | step | reload | kill AGENT | restart AGENT | inject AGENT KIND [TEXT] | reinject ID]',
    flags: [JSON_FLAG],
    options: { json: { type: 'boolean', default: false } },
    more: [
      'The URL is the one `troupe run --dashboard` prints, token included. Without a command it lists',
      'the agents. Exit 0 when the command was done, 1 with the reason when it was refused.',
      'The protocol, for other front ends: docs/dashboard-protocol.md.',
    ].join('\n'),
  },
  help: {
    summary: "show this help, or one command's",
    usage: 'troupe help [command]',
    flags: [],
    options: {},
  },
};

export const EXIT_CODES =
  'exit codes: 0 ok, 1 bad usage or invalid config, 2 the system stopped on a failure';

export function commandHelp(name: string): string {
  const info = COMMANDS[name] as CommandInfo;
  const flags = [...info.flags, '-h, --help              this help'];
  const lines = [`usage: ${info.usage}`, '', info.summary, '', 'flags:', ...flags.map((flag) => `  ${flag}`)];
  if (info.more) lines.push('', info.more);
  return lines.join('\n');
}

export function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const rows = Object.entries(COMMANDS).map(([name, info]) => `  ${name.padEnd(width)}  ${info.summary}`);
  return [
    'usage: troupe <command> [arguments] [flags]',
    '',
    'commands:',
    ...rows,
    '',
    "`troupe help <command>` or `troupe <command> --help` explains a command's flags.",
    'troupe --version prints the version.',
    '',
    EXIT_CODES,
  ].join('\n');
}
