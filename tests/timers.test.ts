// Tick timers: a message can be delayed by whole ticks (to oneself: a timer). The system skips
// the idle ticks in between, is not idle while a timer waits, and replays the same.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllCli, troupe } from './helpers/cli.js';
import { FIXTURES } from './helpers/paths.js';
import {
  killAllHosts,
  logsOf,
  removeTempDirs,
  startRun,
  TEMP_ROOT,
  tempDir,
  writeSystem,
} from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

const timerSystem = (dir?: string) =>
  writeSystem(
    { agents: [{ name: 'sleeper', module: join(FIXTURES, 'js', 'timer.ts'), sendTo: ['sleeper'] }] },
    dir,
  );

describe('tick timers', () => {
  it('wake an agent at the tick asked for, with the id after returned, then the run ends idle', async () => {
    const run = startRun(timerSystem());
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(logsOf(run.events, 'sleeper')).toEqual([
      'woke at tick 5 (Date.now 5000): 1, the id after returned',
      'woke at tick 15 (Date.now 15000): 2, the id after returned',
      'woke at tick 25 (Date.now 25000): 3, the id after returned',
    ]);
    // Only the ticks with work ran: the ones in between were skipped.
    expect(run.events.filter((event) => event.type === 'tick')).toHaveLength(3);
  }, 60_000);

  it('replay from a journal gives the same trace', async () => {
    const dir = tempDir();
    timerSystem(dir);
    const journal = join(dir, 'timers.journal');
    const ran = await troupe([
      'run',
      join(dir, 'test.system.yaml'),
      '--until-idle',
      '--journal',
      journal,
      '--root',
      '/',
    ]).exit;
    expect(ran.code, ran.stderr).toBe(0);
    const trace = ran.stdout.match(/trace ([0-9a-f]{64})/)?.[1];
    const replay = await troupe(['replay', journal, '--root', '/'], { cwd: TEMP_ROOT }).exit;
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`trace ${trace}`);
  }, 60_000);
});
