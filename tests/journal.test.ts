// Journal and replay: a recorded run with injected input, a kill from outside and a deterministic
// trap replays to the same trace; damaged journals and other modules are refused with the reason.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournal, type JournalRecord } from '../src/protocol/index.js';
import {
  JournalWriter,
  journalHeader,
  modelHash,
  ReplaySource,
  type SystemSpec,
  systemClock,
} from '../src/supervisor/index.js';
import { killAllCli, troupe } from './helpers/cli.js';
import { agentModule, ROOT } from './helpers/paths.js';
import { relaySystem } from './helpers/relay-system.js';
import { hostPid, killAllHosts, removeTempDirs, startRun, tempDir, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

const system = () => relaySystem(40);

/** Runs the system with a journal: two injections, a kill -9 of pong mid-batch; returns the trace. */
async function record(spec: SystemSpec): Promise<{ file: string; trace: string }> {
  const file = join(tempDir(), 'run.journal');
  const journal = new JournalWriter(file, 'tick');
  journal.write(journalHeader(spec, 'test'));
  let killed = false;
  const run = startRun(spec, { journal }, ({ tick, agents }, runtime) => {
    if (tick === 5) runtime.inject('counter', 'add', new TextEncoder().encode('100'));
    if (tick === 9) runtime.inject('counter', 'get', new Uint8Array());
    const pid = hostPid('pong');
    if (!killed && tick >= 20 && agents.includes('pong') && pid) {
      killed = true;
      process.kill(pid, 'SIGKILL');
    }
  });
  const summary = await run.done;
  expect(killed).toBe(true);
  return { file, trace: summary.trace };
}

const replay = (file: string, ...extra: string[]) =>
  troupe(['replay', file, '--root', '/', '--json', ...extra], { cwd: '/' }).exit;
const verdict = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) as string);

describe('journal and replay', () => {
  it('replays a run with injections, a kill from outside and a trap to the same trace', async () => {
    const spec = system();
    const { file, trace } = await record(spec);
    const { code, stdout } = await replay(file);
    expect(verdict(stdout)).toMatchObject({ type: 'replay.end', ok: true, trace });
    expect(code).toBe(0);
    // The kill and the trap really happened in the replayed run too.
    expect(stdout).toContain(
      '"type":"agent.crashed","agent":"pong","reason":"agent host process killed by SIGKILL"',
    );
    expect(stdout).toContain('refusing to handle 13');
  });

  it('follows a run while it is recorded: each tick once the recording is past it, then live', async () => {
    const spec = system();
    const { file, trace } = await record(spec);
    const records = decodeJournal(readFileSync(file)).records.slice(1);
    // Cut the recording just after the tick during which pong was killed (holding its batch or
    // not, as the kill fell): the kill's record comes after that tick's, so a follower must not
    // replay that tick yet (a kill in flight is decided at that tick, one between ticks after it).
    const kill = records.findIndex((one) => one.kill);
    const killTick = records[kill]?.kill?.tick ?? 0;
    const cut = records.findIndex((one) => one.tick?.tick === killTick) + 1;
    expect(cut).toBeGreaterThan(0);
    expect(cut).toBeLessThan(kill + 1);
    const written: JournalRecord[] = [];
    const journal = { write: (one: JournalRecord) => written.push(one), tickDone: () => {}, close: () => {} };
    const source = new ReplaySource(records.slice(0, cut), { following: true });
    const run = startRun(spec, { replay: source, journal });
    await expect.poll(() => run.runtime.tick, { timeout: 20_000 }).toBe(killTick - 1);
    const half = cut + Math.floor((records.length - cut) / 2);
    const later = records.slice(cut, half);
    const laterLast = Math.max(...later.map((one) => one.tick?.tick ?? 0));
    run.runtime.followRecording(later);
    await expect.poll(() => run.runtime.tick, { timeout: 20_000 }).toBe(laterLast - 1);
    // Nothing of its own yet: every tick so far was the recorded run's.
    expect(run.events.some((event) => event.type === 'run.live')).toBe(false);
    expect(written).toEqual([]);
    run.runtime.followRecording(records.slice(half));
    run.runtime.recordingWhole();
    const summary = await run.done;
    expect(summary.divergence).toBeUndefined();
    expect(summary.trace).toBe(trace);
    const live = run.events.find((event) => event.type === 'run.live');
    expect(live).toMatchObject({ tick: source.lastTick + 1 });
  }, 60_000);

  it('records checkpoints of agent state, and journaling does not change the trace', async () => {
    const spec = system();
    const plain = await startRun(spec).done;
    const file = join(tempDir(), 'cp.journal');
    const journal = new JournalWriter(file, 'none');
    journal.write(journalHeader(spec, 'test', 5));
    const recorded = await startRun(spec, { journal, checkpointEvery: 5 }).done;
    expect(recorded.trace).toBe(plain.trace);
    const records = decodeJournal(readFileSync(file)).records;
    const checkpoints = records.filter((record) => record.checkpoint);
    expect(checkpoints.length).toBeGreaterThanOrEqual(Math.floor(plain.ticks / 5) - 1);
    expect(checkpoints[0]?.checkpoint?.hashes?.[0]).toHaveLength(8);
    expect(records.some((record) => record.crash?.agent === 'picky')).toBe(true);
    const { code, stdout } = await replay(file);
    expect(code).toBe(0);
    expect(verdict(stdout)).toMatchObject({ ok: true, trace: plain.trace });
  });

  it('inspect into a reader that has gone (`| head`) stops quietly, without a stack trace', async () => {
    const { file } = await record(system());
    const run = troupe(['inspect', file], { cwd: '/' });
    // The read end is closed before the command writes anything: its first write meets EPIPE.
    run.child.stdout?.destroy();
    const { code, stderr } = await run.exit;
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('inspect lists inputs, kills and crashes, and shows one tick: what arrived and what waits', async () => {
    const { file } = await record(system());
    const listing = await troupe(['inspect', file, '--json'], { cwd: '/' }).exit;
    const lines = listing.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ type: 'journal.header', system: 'test' });
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'journal.inject', tick: 6, to: 'counter', kind: 'add' }),
    );
    // Whether pong still held its batch when the SIGKILL landed depends on the machine's load;
    // the journal records what happened, and replay reproduces either case.
    expect(lines).toContainEqual(expect.objectContaining({ type: 'journal.kill', agent: 'pong' }));
    const crash = lines.find((line) => line.type === 'journal.crash' && line.agent === 'picky');
    expect(crash.reason).toContain('refusing to handle 13');
    const shown = await troupe(
      ['inspect', file, '--root', '/', '--tick', String(crash.tick), '--agent', 'picky', '--json'],
      { cwd: '/' },
    ).exit;
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout.trim());
    // The message that trapped picky was handed to it at this tick and is back in its mailbox.
    expect(view.received).toContainEqual(expect.objectContaining({ kind: 'hop', text: '13' }));
    expect(view.mailbox).toContainEqual(expect.objectContaining({ kind: 'hop', text: '13' }));
  });

  it('takes restart-intensity decisions from the journal, not from the clock, when replaying', async () => {
    const spec = writeSystem({
      maxRestarts: 1,
      agents: [
        { name: 'ping', module: agentModule('relay'), init: 'peer=pong;start=1;limit=30;observer=picky' },
        { name: 'pong', module: agentModule('relay'), init: 'peer=ping;limit=30;observer=picky' },
        { name: 'picky', module: agentModule('picky'), init: 'trapOn=13' },
      ],
    });
    const file = join(tempDir(), 'escalation.journal');
    const journal = new JournalWriter(file, 'tick');
    journal.write(journalHeader(spec, 'test'));
    const original = await startRun(spec, { journal }).done;
    expect(original.reason).toMatch(/^restart intensity exceeded/);
    const replay = new ReplaySource(decodeJournal(readFileSync(file)).records);
    // A clock on which every restart is a day apart would never exceed the intensity by itself.
    let now = 0;
    const clock = { now: () => (now += 86_400_000), setTimeout: systemClock.setTimeout };
    const replayed = await startRun(spec, {
      replay,
      clock,
      untilIdle: false,
      maxTicks: replay.lastTick,
    }).done;
    expect(replayed.divergence).toBeUndefined();
    expect(replayed.reason).toBe(original.reason);
    expect(replayed.trace).toBe(original.trace);
  });

  it('refuses a journal altered by one byte in a record body, naming the record', async () => {
    const { file } = await record(system());
    const bytes = readFileSync(file);
    // After the 8-byte marker, each record is a 16-byte frame header and its body.
    const second = 8 + 16 + bytes.readUInt32LE(8);
    const third = second + 16 + bytes.readUInt32LE(second);
    const inThirdBody = third + 16 + 2;
    bytes.writeUInt8(bytes.readUInt8(inThirdBody) ^ 0x01, inThirdBody);
    writeFileSync(file, bytes);
    const { code, stderr } = await replay(file);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `record 2 (at byte ${third}) is damaged: its contents fail the checksum chained from the record before`,
    );
  });

  it('reports a journal made with another module instead of diverging silently', async () => {
    const spec = system();
    const { file } = await record(spec);
    const picky = spec.agents.find((agent) => agent.name === 'picky')?.modulePath as string;
    copyFileSync(agentModule('echo'), picky);
    const refused = await replay(file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/was not made with this system:\n {2}module of "picky" differs/);
    const forced = await replay(file, '--force');
    expect(forced.code).toBe(2);
    expect(verdict(forced.stdout).reason).toMatch(/^replay diverged at tick \d+: agent "\w+"/);
  });

  it('journals a run whose model is an LLM folder, and replays it to the same trace', async () => {
    const chat = join(ROOT, 'examples/chat/chat.system.yaml');
    const journal = join(tempDir(), 'chat.journal');
    const run = await troupe(['run', chat, '--until-idle', '--json', '--journal', journal]).exit;
    expect(run.code, run.stderr).toBe(0);
    const replayed = await replay(journal);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(verdict(replayed.stdout)).toMatchObject({ ok: true, trace: verdict(run.stdout).trace });
  }, 60_000);
});

describe('model hashes', () => {
  it("hash a file model's bytes, and a folder's every file and name", () => {
    const dir = tempDir();
    const file = join(dir, 'm.onnx');
    writeFileSync(file, 'weights');
    expect(modelHash(file)).toBe(createHash('sha256').update('weights').digest('hex'));
    const folder = join(dir, 'llm');
    mkdirSync(join(folder, 'onnx'), { recursive: true });
    writeFileSync(join(folder, 'onnx', 'model.onnx'), 'weights');
    writeFileSync(join(folder, 'tokenizer.json'), '{}');
    const before = modelHash(folder);
    expect(modelHash(folder)).toBe(before);
    writeFileSync(join(folder, 'tokenizer.json'), '{ }');
    const edited = modelHash(folder);
    expect(edited).not.toBe(before);
    renameSync(join(folder, 'tokenizer.json'), join(folder, 'tokenizer2.json'));
    const renamed = modelHash(folder);
    expect(renamed).not.toBe(edited);
    writeFileSync(join(folder, 'extra.txt'), '');
    expect(modelHash(folder)).not.toBe(renamed);
  });
});
