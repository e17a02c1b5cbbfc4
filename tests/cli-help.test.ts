// The command line explains itself: an overview, each command's own help, and "did you mean" for
// a mistyped command, flag or config field.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllCli, troupe } from './helpers/cli.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  removeTempDirs();
});

describe('troupe help', () => {
  it('lists every command, and `troupe help CMD` equals `troupe CMD --help`', async () => {
    const overview = await troupe(['help']).exit;
    expect(overview.code).toBe(0);
    for (const command of ['run', 'replay', 'inspect', 'models', 'validate', 'schema', 'init']) {
      expect(overview.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    }
    const viaHelp = await troupe(['help', 'run']).exit;
    const viaFlag = await troupe(['run', '--help']).exit;
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaFlag.stdout).toContain('usage: troupe run <system.yaml> [flags]');
    expect(viaFlag.stdout).toMatch(/--until-idle +stop when no agent has mail/);
    expect(viaFlag.stdout).toMatch(/--watch +restart an agent when its module's source changes/);
    expect((await troupe(['replay', '-h']).exit).stdout).toMatch(
      /--system FILE +the system file to replay with/,
    );
  }, 30_000);

  it('suggests the nearest command and flag, and says which command a flag was given to', async () => {
    const command = await troupe(['rnu', 'x.yaml']).exit;
    expect(command.code).toBe(1);
    expect(command.stderr).toContain('unknown command "rnu" (did you mean "run"?)');
    const flag = await troupe(['run', 'x.yaml', '--until-idel']).exit;
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain(
      'unknown option "--until-idel" for troupe run (did you mean "--until-idle"?)',
    );
    // The help that follows is the command's own.
    expect(flag.stderr).toContain('usage: troupe run <system.yaml> [flags]');
    const wrongCommand = await troupe(['validate', 'x.yaml', '--seed', '3']).exit;
    expect(wrongCommand.stderr).toContain('unknown option "--seed" for troupe validate');
  }, 30_000);

  it('a failure outside how troupe was called says why, with no help after it', async () => {
    const missing = join(tempDir(), 'missing.journal');
    const replay = await troupe(['replay', missing]).exit;
    expect(replay.code).toBe(1);
    expect(replay.stderr).toBe(`troupe: cannot read journal ${missing}: no such file\n`);
    const unreachable = await troupe(['export', 'js:runs', '--nats', 'nats://127.0.0.1:1', '--out', missing])
      .exit;
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe('troupe: cannot reach NATS at nats://127.0.0.1:1: connection refused\n');
  }, 30_000);

  it('suggests the nearest field of a config file', async () => {
    const file = join(tempDir(), 'typo.system.yaml');
    writeFileSync(file, 'name: typo\nagnets: []\nsupervisor:\n  stratgy: one_for_all\n');
    const result = await troupe(['validate', file, '--root', '/']).exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(':2:1: agnets: unknown field "agnets" (did you mean "agents"?)');
    expect(result.stderr).toContain(
      ':4:3: supervisor.stratgy: unknown field "stratgy" (did you mean "strategy"?)',
    );
  }, 30_000);
});

describe('npm start', () => {
  it('checks the Node version before building, and says what to do instead', async () => {
    const { execFile } = await import('node:child_process');
    const { ROOT } = await import('./helpers/paths.js');
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'scripts', 'check-start.mjs')], (error, _stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    if (major > 22 || (major === 22 && minor >= 13)) expect(result.code).toBe(0);
    else {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('needs Node 22.13 or newer (Electron Forge 8)');
      expect(result.stderr).toContain('npm run demo');
    }
  }, 30_000);
});
