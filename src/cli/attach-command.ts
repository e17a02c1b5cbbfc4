// `troupe attach <url> [command]`: steers a running system from another shell through its
// dashboard endpoint (the URL `troupe run --dashboard` prints, token included), with the commands
// the window sends. The protocol is docs/dashboard-protocol.md.
import WebSocket from 'ws';
import type { Command } from '../dashboard/index.js';
import { errorText } from '../protocol/index.js';
import { type AttachSnapshot, readAttachMessage } from './attach-messages.js';
import { oneLine } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/** How long attach waits for the dashboard to do what it was asked, all told. */
export const ATTACH_TIMEOUT_MS = 10_000;
/** The largest message attach reads from a dashboard (a snapshot of thousands of agents fits). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export const ATTACH_COMMANDS = [
  'agents',
  'pause',
  'resume',
  'step',
  'reload',
  'kill',
  'restart',
  'inject',
  'reinject',
];

/** The command the words name, or a usage error naming what is wrong. */
export function attachCommand(words: readonly string[]): Command | 'agents' {
  const [op = 'agents', ...rest] = words;
  const arity = (count: number, shape: string) => {
    if (rest.length !== count) throw new UsageError(`attach ${op} takes ${shape}`, 'attach');
  };
  switch (op) {
    case 'agents':
    case 'pause':
    case 'resume':
    case 'step':
    case 'reload':
      arity(0, 'nothing more');
      return op === 'agents' ? 'agents' : { op };
    case 'kill':
    case 'restart':
      arity(1, 'an agent: attach URL kill AGENT');
      return { op, agent: rest[0] as string };
    case 'reinject':
      arity(1, "a dead letter's id: attach URL reinject ID");
      return { op, id: rest[0] as string };
    case 'inject':
      if (rest.length < 2 || rest.length > 3)
        throw new UsageError('attach inject takes AGENT KIND [TEXT]', 'attach');
      return { op, to: rest[0] as string, kind: rest[1] as string, text: rest[2] ?? '' };
    default:
      throw new UsageError(`unknown attach command "${op}" (${ATTACH_COMMANDS.join(', ')})`, 'attach');
  }
}

/** The WebSocket address and origin for a dashboard URL such as http://127.0.0.1:PORT/?token=T. */
export function endpoint(address: string): { ws: string; origin: string } {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new UsageError(
      `"${address}" is not a URL: give the one "troupe run --dashboard" printed`,
      'attach',
    );
  }
  const token = url.searchParams.get('token');
  if (url.protocol !== 'http:' || !token) {
    throw new UsageError(`${address} is not a dashboard URL (http://127.0.0.1:PORT/?token=…)`, 'attach');
  }
  return { ws: `ws://${url.host}/ws?token=${encodeURIComponent(token)}`, origin: url.origin };
}

export async function attach(address: string, words: readonly string[], json: boolean): Promise<number> {
  const command = attachCommand(words);
  const { ws: target, origin } = endpoint(address);
  const socket = new WebSocket(target, { origin, maxPayload: MAX_MESSAGE_BYTES });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  return new Promise<number>((resolve) => {
    let settled = false;
    // A server that accepts and then says nothing useful is not waited for for ever.
    const timer = setTimeout(
      () => finish(1, `the dashboard at ${address} did not answer within ${ATTACH_TIMEOUT_MS / 1000} s`),
      ATTACH_TIMEOUT_MS,
    );
    const finish = (code: number, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // What the server said is escaped: it reaches a terminal.
      if (error) process.stderr.write(`troupe attach: ${oneLine(error)}\n`);
      socket.terminate();
      resolve(code);
    };
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      response.on('end', () =>
        finish(1, `the dashboard refused: ${body.trim().slice(0, 500) || response.statusCode}`),
      );
    });
    socket.on('error', (error) => finish(1, `cannot reach the dashboard at ${address}: ${errorText(error)}`));
    socket.on('close', () => finish(1, 'the dashboard closed the connection'));
    socket.on('message', (data) => {
      if (settled) return;
      const read = readAttachMessage(String(data));
      if (!read.ok) {
        finish(1, `the dashboard at ${address} sent ${read.reason}`);
        return;
      }
      const message = read.message;
      if (message.type === 'snapshot' && command === 'agents') {
        out(json ? JSON.stringify(agentsOf(message.snapshot)) : agentTable(message.snapshot));
        finish(0);
      } else if (message.type === 'snapshot' && command !== 'agents' && !sent) {
        sent = true;
        socket.send(JSON.stringify({ id: 1, command }));
      } else if (message.type === 'command.result' && message.id === 1) {
        if (message.error) finish(1, `${command === 'agents' ? 'agents' : command.op}: ${message.error}`);
        else {
          out(json ? JSON.stringify({ ok: true, command }) : `ok: ${describe(command as Command)}`);
          finish(0);
        }
      }
    });
    let sent = false;
  });
}

function agentsOf(snapshot: AttachSnapshot) {
  return {
    system: snapshot.system,
    tick: snapshot.tick,
    paused: snapshot.paused,
    idle: snapshot.idle,
    ...(snapshot.ended ? { ended: snapshot.ended } : {}),
    agents: snapshot.agents.map(({ name, state, mailbox, delivered, restarts, lastCrash }) => ({
      name,
      state,
      mailbox,
      delivered,
      restarts,
      ...(lastCrash ? { lastCrash } : {}),
    })),
  };
}

/** The agents as a table for a terminal; what the server said in it is escaped. */
function agentTable(snapshot: AttachSnapshot): string {
  const { system, tick, paused, agents } = agentsOf(snapshot);
  const status = snapshot.ended
    ? `ended: ${snapshot.ended.reason}`
    : `${paused ? 'paused' : 'running'}${snapshot.idle ? ', idle (no agent has mail)' : ''}`;
  const width = Math.max(5, ...agents.map((agent) => agent.name.length));
  const rows = agents.map(
    (agent) =>
      `  ${agent.name.padEnd(width)}  ${agent.state.padEnd(10)} ${String(agent.mailbox).padStart(7)} ${String(agent.delivered).padStart(10)} ${String(agent.restarts).padStart(8)}${agent.lastCrash ? `  last crash: ${agent.lastCrash}` : ''}`,
  );
  return [
    `${system}: tick ${tick}, ${status}`,
    `  ${'agent'.padEnd(width)}  ${'state'.padEnd(10)} ${'mailbox'.padStart(7)} ${'delivered'.padStart(10)} ${'restarts'.padStart(8)}`,
    ...rows,
  ]
    .map(oneLine)
    .join('\n');
}

function describe(command: Command): string {
  if (command.op === 'kill' || command.op === 'restart') return `${command.op} ${command.agent}`;
  if (command.op === 'inject') return `inject ${command.kind} to ${command.to}`;
  if (command.op === 'reinject') return `reinject ${command.id}`;
  return command.op;
}
