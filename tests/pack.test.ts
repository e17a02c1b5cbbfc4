// Troupe as a package: `npm pack` makes a tarball that installs into an empty folder, whose
// `troupe init` makes a project that runs and type-checks its TypeScript agent against the SDK.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

const run = promisify(execFile);
afterEach(() => removeTempDirs());

// npm passes its own settings to scripts as npm_* variables; the nested npm must not see them.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const npm = (args: string[], cwd: string, extra: Record<string, string> = {}) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd,
    env: { ...env, ...extra },
    timeout: 240_000,
  });

describe('the npm package', () => {
  it('installs from its tarball into an empty folder; init makes a project that runs and type-checks', async () => {
    const work = tempDir();
    const { stdout: packed } = await run('npm', ['pack', '--pack-destination', work, '--silent'], {
      cwd: ROOT,
      env,
    });
    const tarball = join(work, packed.trim().split('\n').pop() as string);
    const tool = join(work, 'tool');
    const app = join(work, 'app');
    await run('mkdir', [tool]);
    // A bare folder has no allowScripts: on a machine without internet, onnxruntime-node's CUDA
    // download is skipped with its own switch (docs/agents.md says so).
    await npm(['install', tarball], tool, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    const troupe = join(tool, 'node_modules', '.bin', 'troupe');
    const init = await run(troupe, ['init', app], { env });
    expect(init.stdout).toContain('created');
    for (const file of [
      'app.system.yaml',
      'agents/greeter.ts',
      'package.json',
      'tsconfig.json',
      'README.md',
    ]) {
      expect(existsSync(join(app, file)), file).toBe(true);
    }
    expect(readFileSync(join(app, 'app.system.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=/);
    // The project depends on the Troupe that made it (installed from the tarball): a plain install.
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).devDependencies.troupe).toBe(
      `file:${join(tool, 'node_modules', 'troupe')}`,
    );
    // Without a word from npm (issue 26: an .npmrc key made it warn on every command).
    const installed = await npm(['install'], app);
    expect(installed.stderr).not.toMatch(/Unknown project config|install-scripts/);
    expect(existsSync(join(app, '.npmrc'))).toBe(false);
    // The project's own scripts: npm start runs the system until idle.
    const started = await run('npm', ['start', '--silent'], { cwd: app, env, timeout: 120_000 });
    expect(started.stdout).toContain('alice says "hello from alice" (round 3)');
    expect(started.stdout).toContain('run ended: idle: no agent has mail');
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    await run(tsc, ['-p', app], { env });
    // The type check is real: a payload read with the wrong type is an error naming the line.
    const agent = join(app, 'agents', 'greeter.ts');
    writeFileSync(
      agent,
      readFileSync(agent, 'utf8').replace(
        'const { round, text }',
        'const { round, text }: { round: string; text: string }',
      ),
    );
    const failed = await run(tsc, ['-p', app], { env }).catch((error: { stdout: string }) => error);
    expect((failed as { stdout: string }).stdout).toMatch(/agents\/greeter\.ts\(\d+,\d+\): error TS2322/);
  }, 600_000);

  it('init refuses a folder that is not empty, and names what is in it', async () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'notes.txt'), 'mine');
    const refused = await run(process.execPath, [join(ROOT, 'bin', 'troupe.js'), 'init', folder]).catch(
      (error: { stderr: string; code: number }) => error,
    );
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toContain('is not empty (it has notes.txt)');
    expect(readFileSync(join(folder, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
