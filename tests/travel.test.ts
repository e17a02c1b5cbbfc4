// Time travel through journals: the index a replay builds shows at each tick what `troupe inspect
// --tick N` shows (received, mailbox, on its way), with keyframes far apart or close together;
// journals compared; a replay that diverges opens where it diverged. Real hosts throughout.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { indexJournal, journalParting, TravelSession, treeRows } from '../src/dashboard/index.js';
import type { ServerMessage } from '../src/dashboard/wire.js';
import { compareJournals } from '../src/supervisor/index.js';
import { killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { agentModule, HOST_ENTRY, ROOT } from './helpers/paths.js';
import { removeTempDirs, writeSystem } from './helpers/system.js';

const HELLO = join(ROOT, 'examples/hello/hello.system.yaml');
let work: string;
let journal: string;

async function record(system: string, file: string, ...flags: string[]): Promise<void> {
  const run = troupe(['run', system, '--until-idle', '--journal', file, ...flags]);
  const { code, stderr } = await run.exit;
  if (code !== 0) throw new Error(`recording failed (${code}): ${stderr}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'troupe-travel-'));
  journal = join(work, 'hello.journal');
  await record(HELLO, journal);
}, 60_000);

afterAll(() => {
  killAllCli();
  removeTempDirs();
  rmSync(work, { recursive: true, force: true });
});

const ids = (views: ReadonlyArray<{ id?: string }>) => views.map((view) => view.id);
const shapes = (views: ReadonlyArray<{ from: string; kind: string; bytes: number }>) =>
  views.map(({ from, kind, bytes }) => `${from}/${kind}/${bytes}`);

describe('time travel', () => {
  it('shows at every tick what troupe inspect --tick shows, whatever the keyframe spacing', async () => {
    const [close, far] = await Promise.all([
      indexJournal({ journal, keyframeEvery: 3, hostEntry: HOST_ENTRY }),
      indexJournal({ journal, keyframeEvery: 1000, hostEntry: HOST_ENTRY }),
    ]);
    const lastTick = close.index.lastTick;
    expect(lastTick).toBeGreaterThan(15);
    const info = {
      system: 'hello',
      journal,
      lastTick,
      rows: treeRows(close.spec.supervisor),
      marks: [],
      openAt: 1,
    };
    const sessions = [new TravelSession(close.index, info), new TravelSession(far.index, info)];
    // Before, at and after picky's crashes on hop 13, and the last tick.
    for (const tick of [1, 5, 13, 14, 16, lastTick]) {
      const run = troupe(['inspect', journal, '--tick', String(tick), '--json'], { cwd: '/' });
      const { code, stdout } = await run.exit;
      expect(code).toBe(0);
      const expected = parseJsonLines(stdout) as unknown as Array<{
        agent: string;
        received: Array<{ id: string; from: string; kind: string; bytes: number }>;
        mailbox: Array<{ id: string; from: string; kind: string; bytes: number }>;
        inTransit: Array<{ from: string; kind: string; bytes: number }>;
      }>;
      for (const session of sessions) {
        const view = session.seek(tick);
        expect(view.tick).toBe(tick);
        for (const want of expected) {
          const got = view.agents.find((agent) => agent.name === want.agent);
          const where = `tick ${tick}, agent ${want.agent}`;
          expect(ids(got?.received ?? []), where).toEqual(ids(want.received));
          expect(ids(got?.mailbox ?? []), where).toEqual(ids(want.mailbox));
          expect(got?.mailboxDepth, where).toBe(want.mailbox.length);
          expect(shapes(got?.inTransit ?? []).sort(), where).toEqual(shapes(want.inTransit).sort());
        }
      }
    }
    // picky at its first crash: it was handed hop 13 and its log says why it refused.
    const picky = sessions[0]?.seek(14, 'picky').agents.find((agent) => agent.name === 'picky');
    expect(picky?.logs.map((line) => line.text)).toEqual(['abort: picky: refusing to handle 13']);
    expect(close.index.marks.filter((mark) => mark.kind === 'crash').map((mark) => mark.tick)).toHaveLength(
      3,
    );
  }, 120_000);

  it('says where two journals part, or that they agree', async () => {
    const again = join(work, 'again.journal');
    const shorter = join(work, 'shorter.journal');
    await record(HELLO, again);
    await record(HELLO, shorter, '--max-ticks', '10');
    expect(journalParting(journal, again)).toBeUndefined();
    expect(journalParting(journal, shorter)).toEqual({
      tick: 11,
      reason: expect.stringMatching(/^the second journal ends at tick 10; the first goes on to tick \d+$/),
    });
    const cli = await troupe(['inspect', journal, '--compare', shorter], { cwd: '/' }).exit;
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^the journals part at tick 11: the second journal ends at tick 10/);
    expect((await troupe(['inspect', journal, '--compare', again], { cwd: '/' }).exit).stdout).toBe(
      'the journals agree on every tick\n',
    );
    // A batch that differs names the tick and the agent.
    const tick = (n: number, hash: number) => ({
      tick: { tick: n, agents: ['a', 'b'], hashes: [Uint8Array.of(1), Uint8Array.of(hash)] },
    });
    expect(compareJournals([tick(1, 2), tick(2, 3)], [tick(1, 2), tick(2, 4)])).toEqual({
      tick: 2,
      reason: 'agent "b" was handed a different batch (03 in the first, 04 in the second)',
    });
  }, 120_000);

  it('opens a replay that diverges at its first divergence', async () => {
    // Copies of the modules, so the test can change one after the recording.
    const ping = join(work, 'ping.wasm');
    const pong = join(work, 'pong.wasm');
    copyFileSync(agentModule('relay'), ping);
    copyFileSync(agentModule('relay'), pong);
    const spec = writeSystem({
      agents: [
        { name: 'ping', module: ping, init: 'peer=pong;start=1;limit=12' },
        { name: 'pong', module: pong, init: 'peer=ping;limit=12' },
      ],
    });
    const file = join(work, 'diverging.journal');
    await record(spec.file, file, '--root', '/');
    // The recorded system's pong now runs another module: its answers differ from the recording.
    copyFileSync(agentModule('echo'), pong);
    const run = troupe(['inspect', file, '--dashboard', '--force', '--json', '--root', '/'], {
      cwd: '/',
    });
    const ready = JSON.parse(await run.waitFor(/"type":"dashboard.ready"/)) as {
      url: string;
      divergence: { tick: number; reason: string };
    };
    expect(ready.divergence.reason).toMatch(/^replay diverged at tick \d+: /);
    const url = new URL(ready.url);
    const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`, {
      headers: { origin: `http://${url.host}` },
    });
    const first = await new Promise<ServerMessage>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data)) as ServerMessage));
      ws.once('error', reject);
    });
    ws.close();
    expect(first.type).toBe('travel');
    if (first.type !== 'travel') return;
    expect(first.travel.openAt).toBe(ready.divergence.tick);
    expect(first.travel.divergence).toEqual(ready.divergence);
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(2);
  }, 120_000);
});
