// Resume: the main process is SIGKILLed mid-run; `--resume` rebuilds the run from its journal and
// finishes with the same result as a run that was never interrupted. A torn tail is cut first.
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournal } from '../src/protocol/index.js';
import { isAlive, killAllCli, troupe } from './helpers/cli.js';
import { agentModule } from './helpers/paths.js';
import { killAllHosts, removeTempDirs, TEMP_ROOT, tempDir } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

function longSystem(): string {
  const dir = tempDir();
  const relay = agentModule('relay');
  const agent = (name: string, module: string, init: string) => ({
    name,
    module,
    init,
    capabilities: { sendTo: ['*'] },
  });
  const file = join(dir, 'long.system.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'long',
      seed: 3,
      agents: [
        agent('ping', relay, 'peer=pong;start=1;limit=1200;observer=picky;counter=counter'),
        agent('pong', relay, 'peer=ping;limit=1200;observer=picky;counter=counter'),
        agent('picky', agentModule('picky'), 'counter=counter;trapOn=600'),
        agent('counter', agentModule('counter'), ''),
      ],
    }),
  );
  return file;
}

const lastLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) as string);

describe.each(['process', 'thread', 'shared'] as const)(
  'resume after the main process dies (%s isolation)',
  (isolation) => {
    it('SIGKILL mid-run, then --resume: the same final result as an uninterrupted run', async () => {
      const system = longSystem();
      const args = ['run', system, '--root', '/', '--until-idle', '--json', '--isolation', isolation];
      const whole = lastLine((await troupe(args).exit).stdout);

      const journal = join(tempDir(), 'run.journal');
      const first = troupe([...args, '--journal', journal]);
      await first.waitFor(/"type":"agent.crashed","agent":"picky"/);
      first.child.kill('SIGKILL');
      await first.exit;
      const pids = first.lines.flatMap((line) =>
        // Thread and shared hosts have no pid: they died with the main process by construction.
        line.includes('"agent.spawned"') && JSON.parse(line).pid ? [JSON.parse(line).pid as number] : [],
      );
      const recorded = decodeJournal(readFileSync(journal));
      const ticks = recorded.records.filter((record) => record.tick).length;
      expect(ticks).toBeGreaterThan(100);
      expect(ticks).toBeLessThan(whole.ticks);
      // Simulate a write cut short by the kill: a few bytes of a record that never finished.
      truncateSync(journal, statSync(journal).size - 3);

      const kept = decodeJournal(readFileSync(journal)).records.flatMap((record) =>
        record.tick ? [Number(record.tick.tick)] : [],
      );

      const resumed = await troupe([...args, '--journal', journal, '--resume']).exit;
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toMatch(/the last \d+ bytes are a torn record; cut it/);
      // It says where the replayed part ends and the live run begins: after the last tick kept.
      const live = resumed.stdout.split('\n').filter((line) => line.includes('"run.live"'));
      expect(live.map((line) => JSON.parse(line))).toEqual([
        { type: 'run.live', tick: Math.max(...kept) + 1 },
      ]);
      expect(lastLine(resumed.stdout)).toMatchObject({
        ok: true,
        ticks: whole.ticks,
        trace: whole.trace,
        delivered: whole.delivered,
      });
      // The journal now holds the whole run, and replays.
      const replayed = await troupe(['replay', journal, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
      expect(lastLine(replayed.stdout)).toMatchObject({ type: 'replay.end', ok: true, trace: whole.trace });
      // The hosts of the killed main process did not outlive it.
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
    }, 120_000);
  },
);

describe('resume refuses what it cannot continue', () => {
  it('--resume without a journal, of a missing one or of a damaged one, is refused with the reason', async () => {
    const system = longSystem();
    const missing = await troupe(['run', system, '--root', '/', '--resume']).exit;
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--resume needs --journal FILE');
    const absent = await troupe(['replay', join(tempDir(), 'absent.journal')]).exit;
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/cannot read journal .*absent\.journal: no such file/);
    const journal = join(tempDir(), 'bad.journal');
    writeFileSync(journal, Buffer.from([5, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9, 9, 9]));
    const damaged = await troupe(['run', system, '--root', '/', '--journal', journal, '--resume']).exit;
    expect(damaged.code).toBe(1);
    // The reason alone (issue 26: the whole usage text followed, as if the command line were wrong).
    expect(damaged.stderr).toBe(
      `troupe: ${journal}: record 0 (at byte 0) is damaged: the file does not start with a Troupe journal format 2 marker; the journal was left as it is\n`,
    );
  });

  it('one flipped bit in a record length is damage: replay and resume refuse it and the file is left whole', async () => {
    const system = longSystem();
    const journal = join(tempDir(), 'run.journal');
    const args = ['run', system, '--root', '/', '--until-idle', '--json', '--max-ticks', '40'];
    expect((await troupe([...args, '--journal', journal]).exit).code).toBe(0);
    const bytes = readFileSync(journal);
    // The fifth record's length, with its top bit set: it now points far past the end of the file.
    let offset = 8;
    for (let i = 0; i < 4; i++) offset += 16 + bytes.readUInt32LE(offset);
    const damaged = Buffer.from(bytes);
    damaged[offset + 3] = (damaged[offset + 3] as number) ^ 0x80;
    writeFileSync(journal, damaged);
    const why = `record 4 (at byte ${offset}) is damaged: its header (length and number) fails its checksum`;
    const replayed = await troupe(['replay', journal, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toBe(`troupe: ${journal}: ${why}; the journal was left as it is\n`);
    const resumed = await troupe([...args, '--journal', journal, '--resume']).exit;
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toBe(`troupe: ${journal}: ${why}; the journal was left as it is\n`);
    expect(readFileSync(journal).equals(damaged)).toBe(true);
  }, 60_000);
});
