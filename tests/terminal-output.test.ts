// Operator tools show what agents, journals and servers say, escaped (issue 26): a log line or a
// crash reason holding terminal control sequences cannot set the title, clear the screen or pass
// for another line in `run`, `replay`, `inspect` and `attach`; JSON output stays exact. And
// `troupe attach` against a broken or hostile server refuses each bad answer by name and gives up
// on one that says nothing, instead of crashing or hanging.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { oneLine, terminalText } from '../src/cli/terminal-text.js';
import { killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { FIXTURES } from './helpers/paths.js';
import { removeTempDirs, TEMP_ROOT, tempDir } from './helpers/system.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
  killAllCli();
  removeTempDirs();
});

/** Bytes a terminal acts on: ESC, BEL, CSI (C1) and the other controls but newline. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('terminal text', () => {
  it('escapes controls, C1 and bidirectional overrides; keeps newlines only where the tool writes them', () => {
    expect(terminalText('a\u001b]2;t\u0007b\n\u202ec\u009b')).toBe('a\\x1b]2;t\\x07b\n\\u202ec\\x9b');
    expect(oneLine('one\ntwo\r')).toBe('one\\ntwo\\x0d');
    expect(terminalText('plain text, ünïcödé')).toBe('plain text, ünïcödé');
  });

  it('run, replay and inspect show an agent’s control sequences escaped; --json keeps them exact', async () => {
    const dir = tempDir();
    const system = join(dir, 'terminal.system.yaml');
    writeFileSync(
      system,
      `name: terminal\nsupervisor: { maxRestarts: 1 }\nagents:\n  - { name: term, module: ${join(FIXTURES, 'js', 'terminal.ts')}, capabilities: { sendTo: [term] } }\n`,
    );
    const journal = join(dir, 'run.journal');
    const run = await troupe(['run', system, '--root', '/', '--until-idle', '--journal', journal]).exit;
    expect(run.stdout).not.toMatch(CONTROLS);
    expect(run.stdout).toContain('\\x1b]2;pwned\\x07\\x1b[2J title and clear');
    expect(run.stdout).toContain('honest\\n[t9] other   is running');
    expect(run.stdout).toContain('\\x1b[31mred\\x1b[0m \\x9b6n');
    const json = await troupe(['run', system, '--root', '/', '--until-idle', '--json']).exit;
    const logs = parseJsonLines(json.stdout).filter((line) => line.type === 'agent.log');
    expect(logs.slice(0, 2).map((line) => line.text)).toEqual([
      '\u001b]2;pwned\u0007\u001b[2J title and clear',
      'honest\n[t9] other   is running',
    ]);
    for (const args of [
      ['replay', journal, '--root', '/'],
      ['inspect', journal],
      ['inspect', journal, '--tick', '1', '--root', '/'],
    ]) {
      const shown = await troupe(args, { cwd: TEMP_ROOT }).exit;
      expect(shown.stdout + shown.stderr, args.join(' ')).not.toMatch(CONTROLS);
    }
  }, 60_000);
});

/** A dashboard server that answers every client with `answer` (or nothing), and its URL. */
async function hostileServer(answer: ((send: (data: string) => void) => void) | undefined): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => answer?.((data) => socket.send(data)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/?token=t`;
}

const snapshot = (agents: unknown, extra: object = {}) =>
  JSON.stringify({
    type: 'snapshot',
    snapshot: { system: 's', tick: 3, paused: false, idle: false, agents, ...extra },
  });

describe('troupe attach against a broken or hostile server', () => {
  it.each([
    ['not JSON', 'not json at all', 'sent a message that is not JSON'],
    ['null', 'null', 'sent a message that is not an object with a "type"'],
    ['a list', '[1,2]', 'sent a message that is not an object with a "type"'],
    [
      'a snapshot of null',
      '{"type":"snapshot","snapshot":null}',
      'sent a malformed snapshot (not an object)',
    ],
    ['agents not a list', snapshot('many'), 'sent a malformed snapshot ("agents" is not a list)'],
    [
      'an agent without counts',
      snapshot([{ name: 'a', state: 'running' }]),
      'sent a malformed snapshot (agents[0].mailbox is not a count)',
    ],
    ['a result without an id', '{"type":"command.result"}', 'sent a command result without a numeric "id"'],
  ])(
    'refuses %s by name, without a stack trace',
    async (_what, message, reason) => {
      const url = await hostileServer((send) => send(message));
      const { code, stderr } = await troupe(['attach', url, 'agents']).exit;
      expect(code).toBe(1);
      expect(stderr).toBe(`troupe attach: the dashboard at ${url} ${reason}\n`);
    },
    30_000,
  );

  it('shows what the server says escaped', async () => {
    const agents = [
      {
        name: 'a\u001b[2J',
        state: 'running',
        mailbox: 0,
        delivered: 1,
        restarts: 2,
        lastCrash: '\u001b]2;x\u0007',
      },
    ];
    const url = await hostileServer((send) => send(snapshot(agents)));
    const { code, stdout } = await troupe(['attach', url, 'agents']).exit;
    expect(code).toBe(0);
    expect(stdout).not.toMatch(CONTROLS);
    expect(stdout).toContain('a\\x1b[2J');
    expect(stdout).toContain('last crash: \\x1b]2;x\\x07');
  }, 30_000);

  it('gives up on a server that accepts and says nothing useful, with the reason', async () => {
    const url = await hostileServer((send) => send('{"type":"chatter"}'));
    const { code, stderr } = await troupe(['attach', url, 'pause']).exit;
    expect(code).toBe(1);
    expect(stderr).toBe(`troupe attach: the dashboard at ${url} did not answer within 10 s\n`);
  }, 30_000);
});
