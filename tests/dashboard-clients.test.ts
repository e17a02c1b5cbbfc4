// Bad dashboard clients against a live `troupe run --dashboard`: a message over the size limit,
// a text frame that is not UTF-8 and an inject whose text is short in characters but long in
// bytes each close or refuse that client with a reason, and the run goes on untouched: it still
// answers, and its trace is the trace of a run nobody disturbed. A client that connects after
// the system has worked sees each delivery once.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_INJECT_BYTES,
  type ServerMessage,
  type Snapshot,
} from '../src/dashboard/index.js';
import { killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

const HELLO = join(ROOT, 'examples/hello/hello.system.yaml');

afterAll(() => killAllCli());

interface Client {
  ws: WebSocket;
  messages: ServerMessage[];
  closed: Promise<{ code: number; reason: string }>;
  next(test: (message: ServerMessage) => boolean): Promise<ServerMessage>;
}

function client(url: URL): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${url.port}/ws${url.search}`, { origin: url.origin });
  const messages: ServerMessage[] = [];
  const waiters: Array<{ test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    messages.push(message);
    for (const waiter of waiters.filter((w) => w.test(message))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const next = (test: (m: ServerMessage) => boolean) =>
    new Promise<ServerMessage>((resolve) => {
      const seen = messages.find(test);
      if (seen) resolve(seen);
      else waiters.push({ test, resolve });
    });
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages, closed, next }));
    ws.on('error', reject);
  });
}

const snapshotOf = (message: ServerMessage): Snapshot | undefined =>
  message.type === 'snapshot' ? message.snapshot : undefined;

describe('dashboard clients that misbehave', () => {
  it('are closed or refused with a reason while the run goes on with its trace unchanged', async () => {
    const quiet = troupe(['run', HELLO, '--until-idle', '--json']);
    const expected = (await quiet.exit).stdout;
    const undisturbed = parseJsonLines(expected).find((event) => event.type === 'run.end')?.trace;
    expect(undisturbed).toMatch(/^[0-9a-f]{64}$/);

    const run = troupe(['run', HELLO, '--dashboard', '--json']);
    const ready = JSON.parse(await run.waitFor(/"type":"dashboard.ready"/)) as { url: string };
    const url = new URL(ready.url);
    await run.waitFor(/"type":"system.idle"/);

    // 1. More bytes than a client message may have: closed with 1009 (message too big).
    const big = await client(url);
    big.ws.send('x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 1));
    expect((await big.closed).code).toBe(1009);

    // 2. A text frame that is not UTF-8: closed with 1007 (invalid frame payload data).
    const garbled = await client(url);
    garbled.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await garbled.closed).code).toBe(1007);

    // 3. 800,000 "€" are fewer characters than MAX_INJECT_BYTES but three times as many bytes:
    //    refused by name, and the client stays connected.
    const euro = await client(url);
    const text = '€'.repeat(800_000);
    expect(text.length).toBeLessThan(MAX_INJECT_BYTES);
    euro.ws.send(JSON.stringify({ id: 7, command: { op: 'inject', to: 'counter', kind: 'add', text } }));
    const answer = await euro.next((m) => m.type === 'command.result' && m.id === 7);
    expect(answer).toMatchObject({
      error: expect.stringMatching(/2400000 bytes of UTF-8, above the 1048576/),
    });
    expect(euro.ws.readyState).toBe(WebSocket.OPEN);
    euro.ws.close();

    // The server still answers a new client with a snapshot of the same run.
    const later = await client(url);
    const first = snapshotOf(await later.next((m) => m.type === 'snapshot'));
    expect(first?.system).toBe('hello');
    // The session's id: 21 characters of nanoid's URL-safe alphabet.
    expect(first?.session).toMatch(/^[A-Za-z0-9_-]{21}$/);
    later.ws.close();

    run.child.kill('SIGINT');
    const { code, stdout, stderr } = await run.exit;
    expect(code).toBe(0);
    expect(parseJsonLines(stdout).find((event) => event.type === 'run.end')?.trace).toBe(undisturbed);
    expect(stderr).toMatch(/dashboard: closed a client: .*Max payload size exceeded/);
    expect(stderr).toMatch(/dashboard: closed a client: .*invalid UTF-8/i);
  }, 60_000);

  it('a client connecting after the system has worked sees each delivery once', async () => {
    const run = troupe(['run', HELLO, '--dashboard', '--json']);
    const ready = JSON.parse(await run.waitFor(/"type":"dashboard.ready"/)) as { url: string };
    await run.waitFor(/"type":"system.idle"/);
    const viewer = await client(new URL(ready.url));
    const first = snapshotOf(await viewer.next((m) => m.type === 'snapshot')) as Snapshot;
    // Wait for two more snapshots: the deliveries of the first must not come again.
    await viewer.next((m) => (snapshotOf(m)?.seq ?? 0) >= first.seq + 2);
    const rows = viewer.messages.flatMap((m) => snapshotOf(m)?.trace ?? []);
    const delivered = first.agents.reduce((sum, agent) => sum + agent.delivered, 0);
    expect(delivered).toBeGreaterThan(0);
    expect(rows.map((row) => row.n)).toEqual([...new Set(rows.map((row) => row.n))]);
    expect(rows).toHaveLength(delivered);
    viewer.ws.close();
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(0);
  }, 60_000);
});
