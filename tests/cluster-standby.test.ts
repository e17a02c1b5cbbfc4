import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectNats,
  createStreamJournal,
  type LocalNats,
  type NatsConnection,
  readStreamJournal,
  StreamJournal,
  startLocalNats,
} from '../src/cluster/index.js';
import { decodeJournal, type JournalRecord } from '../src/protocol/index.js';
import { type CliRun, isAlive, killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { longClusterSystem } from './helpers/long-cluster.js';
import { removeTempDirs, TEMP_ROOT, tempDir } from './helpers/system.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  killAllCli();
  removeTempDirs();
});

async function jetStreamServer(): Promise<{ nats: LocalNats; nc: NatsConnection }> {
  const nats = await startLocalNats({ jetstream: true });
  cleanups.push(() => nats.stop());
  const nc = await connectNats(nats.url, 'test', { token: nats.token });
  cleanups.push(() => nc.close());
  return { nats, nc };
}

const inject = (tick: number): JournalRecord => ({
  inject: { tick, from: 'outside', to: 'a', kind: 'k', payload: new Uint8Array([tick]) },
});

/** The records a stream holds, decoded and checked as a journal file's are. */
async function storedRecords(nc: NatsConnection, system: string, stream: string) {
  const stored = await readStreamJournal(nc, system, stream);
  if (!stored) throw new Error(`no stream ${stream}`);
  const read = decodeJournal(stored.bytes);
  expect(read.corrupt).toBeUndefined();
  return { stored, read };
}

describe('journal in JetStream', () => {
  it('stores records in order, is continued by a resumed writer, and records the end', async () => {
    const { nc } = await jetStreamServer();
    const failures: string[] = [];
    const first = await createStreamJournal(nc, 'sys', 'run-1', (why) => failures.push(why));
    for (let tick = 1; tick <= 50; tick++) first.write(inject(tick));
    await first.settled();
    const { stored, read } = await storedRecords(nc, 'sys', 'run-1');
    expect(read.records.map((record) => Number(record.inject?.tick))).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(stored.ended).toBeUndefined();
    // Written faster than stored, records go many to a message: the journal keeps up with the run.
    expect(stored.records).toBe(50);
    expect(stored.lastSequence).toBeLessThan(50);
    // A writer continuing it (a resumed coordinator) chains on, and says the run ended.
    const next = new StreamJournal(nc, 'sys', 'run-1', {
      lastSequence: stored.lastSequence,
      chain: read.chain,
      onFailed: (why) => failures.push(why),
    });
    next.write(inject(51));
    await next.ended({ ticks: 51, trace: 'ab', ok: true });
    const after = await storedRecords(nc, 'sys', 'run-1');
    expect(after.read.records).toHaveLength(51);
    expect(after.stored.ended).toEqual({ ticks: 51, trace: 'ab', ok: true });
    expect(failures).toEqual([]);
    // A new run is never written over one that exists.
    await expect(createStreamJournal(nc, 'sys', 'run-1', () => {})).rejects.toThrow(
      'journal js:run-1 already holds a run (51 records); continue it with --resume, or choose another name',
    );
    // Nor is a stream of another system read as this one's journal.
    await expect(readStreamJournal(nc, 'other', 'run-1')).rejects.toThrow(
      'stream run-1 does not hold a journal of "other" (its subjects: troupe.sys.journal.run-1.>)',
    );
  }, 60_000);

  it('lets only one of two coordinators writing the same journal go on', async () => {
    const { nc } = await jetStreamServer();
    const journal = await createStreamJournal(nc, 'sys', 'run-2', () => {});
    journal.write(inject(1));
    await journal.settled();
    const { stored, read } = await storedRecords(nc, 'sys', 'run-2');
    const failed: { old: string[]; new: string[] } = { old: [], new: [] };
    const at = { lastSequence: stored.lastSequence, chain: read.chain };
    const taker = new StreamJournal(nc, 'sys', 'run-2', { ...at, onFailed: (why) => failed.new.push(why) });
    const stale = new StreamJournal(nc, 'sys', 'run-2', { ...at, onFailed: (why) => failed.old.push(why) });
    taker.write(inject(2));
    await taker.settled();
    stale.write(inject(2));
    stale.write(inject(3));
    await stale.settled();
    expect(failed.old).toEqual([
      "another coordinator has written to the journal (the stream's last record is not this one's); this one stops",
    ]);
    expect(stale.failure).toBe(failed.old[0]);
    taker.write(inject(3));
    await taker.settled();
    expect(failed.new).toEqual([]);
    // The journal is the taker's, whole and chained: nothing of the stale writer got in.
    const after = await storedRecords(nc, 'sys', 'run-2');
    expect(after.read.records.map((record) => Number(record.inject?.tick))).toEqual([1, 2, 3]);
  }, 60_000);

  it('loses and doubles nothing when the nats-server is killed and started again while it writes', async () => {
    const storeDir = tempDir();
    let nats = await startLocalNats({ jetstream: { storeDir } });
    cleanups.push(() => nats.stop());
    const nc = await connectNats(nats.url, 'test', { token: nats.token });
    cleanups.push(() => nc.close());
    const failures: string[] = [];
    const journal = await createStreamJournal(nc, 'sys', 'run-3', (why) => failures.push(why));
    for (let tick = 1; tick <= 20; tick++) journal.write(inject(tick));
    await journal.settled();
    // The server dies with records on their way, and more are written while it is gone.
    for (let tick = 21; tick <= 30; tick++) journal.write(inject(tick));
    nats.kill();
    await nats.exited;
    for (let tick = 31; tick <= 40; tick++) journal.write(inject(tick));
    nats = await startLocalNats({
      jetstream: { storeDir },
      port: Number(new URL(nats.url).port),
      token: nats.token,
    });
    await journal.settled();
    expect(failures).toEqual([]);
    const { read } = await storedRecords(nc, 'sys', 'run-3');
    expect(read.records.map((record) => Number(record.inject?.tick))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  }, 60_000);

  it('refuses bad --journal js: and --standby uses by name', async () => {
    const nats = await startLocalNats();
    cleanups.push(() => nats.stop());
    const file = longSystem(10);
    const run = (args: string[]) =>
      troupe(['cluster', file, '--nodes', '3', '--root', '/', ...args], {
        env: { TROUPE_NATS_TOKEN: nats.token ?? '' },
      }).exit;
    const cases: Array<[string[], string]> = [
      [
        ['--journal', 'js:a.b', '--nats', nats.url],
        'a stream name is 1 to 64 letters, digits, "-" or "_" (got "a.b")',
      ],
      [['--standby'], '--standby takes the run over from its journal in JetStream: give --journal js:NAME'],
      [['--follow'], '--follow is a way to stand by: give it with --standby'],
      [['--journal', 'js:x'], '--journal js:x keeps the journal on a NATS server that outlives this process'],
      [
        ['--journal', 'js:x', '--nats', nats.url],
        'the NATS server has no JetStream (run nats-server with -js',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(message);
    }
    // A cluster that cannot start leaves no journal file behind (a retry would find it in the way).
    const journal = join(tempDir(), 'never.journal');
    const unreachable = await run(['--journal', journal, '--nats', 'nats://127.0.0.1:1']);
    expect(unreachable.stderr).toContain('cannot reach NATS at nats://127.0.0.1:1');
    expect(existsSync(journal)).toBe(false);
  }, 60_000);
});

const longSystem = (limit: number) => longClusterSystem({ name: 'standby-cluster', seed: 5, limit });

/**
 * A long run's system, a JetStream server, and the nodes east, west and south (`troupe node`) on
 * it, each joined; `cluster` starts with the arguments of a coordinator journaling to `stream`.
 */
async function standbyCluster(limit: number, stream: string, flags: string[]) {
  const file = longSystem(limit);
  const { nats, nc } = await jetStreamServer();
  const env = { TROUPE_NATS_TOKEN: nats.token ?? '' };
  const nodes = new Map<string, CliRun>();
  for (const name of ['east', 'west', 'south']) {
    const node = troupe(['node', file, '--name', name, '--nats', nats.url, '--json'], { env });
    nodes.set(name, node);
    await node.waitFor(/"type":"node.ready"/);
  }
  const cluster = [
    'cluster',
    file,
    '--nodes',
    '3',
    '--nats',
    nats.url,
    '--journal',
    `js:${stream}`,
    ...flags,
  ];
  return { file, nats, nc, env, nodes, cluster };
}

/** The standby ends the run as `whole` ended on one machine, and the stream says so. */
async function endsAsWhole(
  standby: CliRun,
  whole: Record<string, unknown> | undefined,
  nc: NatsConnection,
  stream: string,
): Promise<void> {
  const resumed = await standby.exit;
  expect(resumed.code, resumed.stderr).toBe(0);
  const { ticks, delivered, trace } = whole ?? {};
  expect(parseJsonLines(resumed.stdout).at(-1)).toMatchObject({
    type: 'run.end',
    ok: true,
    ticks,
    delivered,
    trace,
  });
  const { stored } = await storedRecords(nc, 'standby-cluster', stream);
  expect(stored.ended).toEqual({ ticks, trace, ok: true });
}

/** What a following standby said of how far it had replayed, in order. */
const progress = (standby: CliRun) =>
  parseJsonLines(standby.lines.join('\n')).filter((line) => line.type === 'standby.following');

/**
 * Once the standby has replayed all but the last recorded tick (the run is idle), kills the
 * coordinator (after `beforeKill`); the standby takes over with that one tick left to replay.
 */
async function takeOverCaughtUp(first: CliRun, standby: CliRun, beforeKill = () => {}) {
  await expect
    .poll(
      () => {
        const last = progress(standby).at(-1);
        return last !== undefined && last.tick === (last.recorded as number) - 1;
      },
      { timeout: 120_000 },
    )
    .toBe(true);
  beforeKill();
  first.child.kill('SIGKILL');
  await first.exit;
  const takeover = JSON.parse(await standby.waitFor(/"type":"coordinator.takeover"/)) as {
    tick: number;
    recorded: number;
  };
  expect(takeover.tick).toBe(takeover.recorded - 1);
  return takeover;
}

/** The end of the system's run on one machine. */
async function wholeRun(file: string, flags: string[]) {
  const whole = parseJsonLines((await troupe(['run', file, ...flags]).exit).stdout).at(-1);
  expect(whole).toMatchObject({ type: 'run.end', ok: true });
  return whole;
}

describe('standby coordinator', () => {
  it('takes the run over from JetStream when the coordinator is SIGKILLed, and ends it as an uninterrupted run', async () => {
    const flags = ['--root', '/', '--until-idle', '--json'];
    const { file, nats, nc, env, nodes, cluster } = await standbyCluster(1500, 'standby-run', flags);
    const whole = await wholeRun(file, flags);
    const first = troupe(cluster, { env });
    const standby = troupe([...cluster, '--standby'], { env });
    await standby.waitFor(/"type":"standby.waiting"/);
    // With --nats, the coordinator starts no node of its own: it runs on the three started here.
    expect(JSON.parse(await first.waitFor(/"type":"cluster.ready"/))).toMatchObject({
      nodes: ['east', 'south', 'west'],
      pids: [],
    });
    await first.waitFor(/"type":"agent.crashed","agent":"picky"/);
    first.child.kill('SIGKILL');
    await first.exit;
    const takeover = JSON.parse(await standby.waitFor(/"type":"coordinator.takeover"/)) as {
      records: number;
    };
    expect(takeover.records).toBeGreaterThan(1);
    // The journal in the stream is whole, and says the run ended: a second standby has nothing to do.
    await endsAsWhole(standby, whole, nc, 'standby-run');
    const late = await troupe([...cluster, '--standby'], { env }).exit;
    expect(late.code, late.stderr).toBe(0);
    expect(parseJsonLines(late.stdout).at(-1)).toMatchObject({ type: 'standby.ended', trace: whole?.trace });
    // Each node ended the hosts of the coordinator that died, by itself, and then stopped when
    // the standby's run ended.
    for (const [name, node] of nodes) {
      const { code, stderr } = await node.exit;
      expect(code, name).toBe(0);
      expect(stderr, name).toMatch(/its coordinator was not heard for 1500 ms; ended/);
    }
    // Copied to a file, the journal replays on one machine to the same trace.
    const copy = join(tempDir(), 'standby.journal');
    const exported = await troupe(['export', 'js:standby-run', '--nats', nats.url, '--out', copy], { env })
      .exit;
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`written to ${copy}; the run ended at tick ${whole?.ticks}`);
    const replayed = await troupe(['replay', copy, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(parseJsonLines(replayed.stdout).at(-1)).toMatchObject({ trace: whole?.trace });
    const refusals: Array<[string[], string]> = [
      [['js:standby-run', '--out', copy], `${copy} already exists`],
      [['js:nothing-here', '--out', `${copy}.2`], 'there is no stream nothing-here on'],
    ];
    for (const [args, message] of refusals) {
      const refused = await troupe(['export', ...args, '--nats', nats.url], { env }).exit;
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(message);
    }
    // A new run is refused on the journal of one that exists.
    const again = await troupe(cluster, { env }).exit;
    expect(again.stderr).toContain('journal js:standby-run already holds a run');
    for (const node of nodes.values()) expect(isAlive(node.child.pid as number)).toBe(false);
  }, 240_000);
  it('a standby that follows the run takes it over with only its last tick to replay', async () => {
    const flags = ['--root', '/', '--json'];
    const { file, nc, env, nodes, cluster } = await standbyCluster(800, 'follow-run', flags);
    const whole = await wholeRun(file, [...flags, '--until-idle']);
    // The coordinator runs until it is killed: idle once the relay is done, it waits for more.
    const first = troupe(cluster, { env });
    const standby = troupe([...cluster, '--standby', '--follow', '--until-idle'], { env });
    await standby.waitFor(/"type":"standby.waiting".*"follow":true/);
    await first.waitFor(/"type":"system.idle"/);
    // The standby replays the run as it is recorded, one tick behind: all but the last tick. Its
    // replay of the coordinator's run is quiet: no agent events of its own before it takes over.
    const takeover = await takeOverCaughtUp(first, standby, () =>
      expect(standby.lines.some((line) => line.includes('"type":"agent.'))).toBe(false),
    );
    const live = JSON.parse(await standby.waitFor(/"type":"run.live"/)) as { tick: number };
    expect(live.tick).toBeGreaterThan(takeover.recorded);
    await endsAsWhole(standby, whole, nc, 'follow-run');
    // The nodes stop with the run the standby ended (whether they had ended the dead
    // coordinator's hosts by then or end them as they stop: the takeover is that quick).
    for (const [name, node] of nodes) expect((await node.exit).code, name).toBe(0);
  }, 240_000);
  it('a following standby whose coordinator ends the run says so, and leaves the nodes to it', async () => {
    const { nodes, env, cluster } = await standbyCluster(200, 'ends', ['--root', '/']);
    const standby = troupe([...cluster, '--standby', '--follow', '--json'], { env });
    await standby.waitFor(/"type":"standby.waiting"/);
    const first = await troupe([...cluster, '--until-idle', '--json'], { env }).exit;
    expect(first.code, first.stderr).toBe(0);
    const end = parseJsonLines(first.stdout).at(-1);
    const followed = await standby.exit;
    expect(followed.code, followed.stderr).toBe(0);
    const lines = parseJsonLines(followed.stdout);
    expect(lines.at(-1)).toMatchObject({
      type: 'standby.ended',
      ticks: end?.ticks,
      trace: end?.trace,
      ok: true,
    });
    // Nothing of its replay was printed as if it were the run.
    expect(lines.some((line) => line.type === 'run.end' || String(line.type).startsWith('agent.'))).toBe(
      false,
    );
    for (const node of nodes.values()) expect((await node.exit).code).toBe(0);
  }, 120_000);

  it('a following standby that loses a node under its hosts follows again from the start, and takes over', async () => {
    const { nats, env, nodes, cluster } = await standbyCluster(800, 'lost-node', ['--root', '/', '--json']);
    const first = troupe(cluster, { env });
    const standby = troupe([...cluster, '--standby', '--follow', '--until-idle'], { env });
    await expect
      .poll(() => progress(standby).some((line) => (line.tick as number) > 20), { timeout: 120_000 })
      .toBe(true);
    // picky's node dies: the coordinator restarts picky on another node, and the standby's own
    // host of picky dies too, which the recording does not say: it follows again from the start.
    nodes.get('south')?.child.kill('SIGKILL');
    expect(JSON.parse(await standby.waitFor(/"type":"standby.lost"/))).toMatchObject({ again: true });
    await first.waitFor(/"type":"node.lost","node":"south"/);
    await first.waitFor(/"type":"system.idle"/);
    await takeOverCaughtUp(first, standby);
    const resumed = await standby.exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    const end = parseJsonLines(resumed.stdout).at(-1);
    expect(end).toMatchObject({ type: 'run.end', ok: true });
    // The run, a node kill included, is the one its journal holds: replayed on one machine, the same.
    const copy = join(tempDir(), 'lost-node.journal');
    expect(
      (await troupe(['export', 'js:lost-node', '--nats', nats.url, '--out', copy], { env }).exit).code,
    ).toBe(0);
    const replayed = await troupe(['replay', copy, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(parseJsonLines(replayed.stdout).at(-1)).toMatchObject({ trace: end?.trace });
  }, 240_000);
});
