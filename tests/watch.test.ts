// `troupe run --watch`: an edit to an agent's source restarts that agent on the new code, and the
// messages waiting for it are kept (the ticker below only goes on if its next tick survived).
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllCli, troupe } from './helpers/cli.js';
import { FIXTURES } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  removeTempDirs();
});

describe('troupe run --watch', () => {
  it('reloads an agent whose source changed, keeping its mailbox', async () => {
    const dir = tempDir();
    const agent = join(dir, 'ticker.ts');
    copyFileSync(join(FIXTURES, 'js', 'ticker.ts'), agent);
    const system = join(dir, 'watch.system.yaml');
    writeFileSync(
      system,
      JSON.stringify({
        name: 'watch',
        agents: [{ name: 'ticker', module: './ticker.ts', capabilities: { sendTo: ['ticker'] } }],
      }),
    );
    const run = troupe(['run', system, '--watch', '--control', '--root', dir], { stdin: true });
    // The first tick comes from outside; every later one is the ticker's own, waiting in its mailbox.
    run.child.stdin?.write(`${JSON.stringify({ op: 'inject', to: 'ticker', kind: 'tick', text: '1' })}\n`);
    await run.waitFor(/ticker +v1 tick 200/);
    writeFileSync(agent, readFileSync(agent, 'utf8').replace("const VERSION = 'v1'", "const VERSION = 'v2'"));
    await run.waitFor(/ticker: its source changed; reloading/);
    const resumed = await run.waitFor(/ticker +v2 tick \d+/);
    expect(Number(resumed.match(/v2 tick (\d+)/)?.[1])).toBeGreaterThan(200);
    run.child.kill('SIGINT');
    const exit = await run.exit;
    expect(exit.stdout).toMatch(/ticker +CRASHED: reloaded: its module changed/);
  }, 60_000);

  it('reloads an agent placed on a node of a cluster: the node fetches the new module', async () => {
    const dir = tempDir();
    const agent = join(dir, 'ticker.ts');
    copyFileSync(join(FIXTURES, 'js', 'ticker.ts'), agent);
    const system = join(dir, 'watch.system.yaml');
    writeFileSync(
      system,
      JSON.stringify({
        name: 'watch-cluster',
        agents: [
          { name: 'ticker', module: './ticker.ts', placement: 'east', capabilities: { sendTo: ['ticker'] } },
        ],
      }),
    );
    const run = troupe(['cluster', system, '--nodes', '1', '--watch', '--control', '--root', dir], {
      stdin: true,
      // The node's cache starts empty: each version of the module is shipped to it.
      env: { XDG_CACHE_HOME: tempDir() },
    });
    run.child.stdin?.write(`${JSON.stringify({ op: 'inject', to: 'ticker', kind: 'tick', text: '1' })}\n`);
    await run.waitFor(/ticker +v1 tick 200/);
    writeFileSync(agent, readFileSync(agent, 'utf8').replace("const VERSION = 'v1'", "const VERSION = 'v2'"));
    await run.waitFor(/ticker: its source changed; reloading/);
    const resumed = await run.waitFor(/ticker +v2 tick \d+/);
    expect(Number(resumed.match(/v2 tick (\d+)/)?.[1])).toBeGreaterThan(200);
    run.child.kill('SIGINT');
    const exit = await run.exit;
    expect(exit.stdout).toMatch(
      /ticker +host started on node "east"[\s\S]*ticker +host started on node "east"/,
    );
  }, 60_000);

  it('does not go with a journal', async () => {
    const result = await troupe(['run', 'x.yaml', '--watch', '--journal', 'x.journal']).exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--watch does not go with --journal, --resume or --dashboard');
  }, 30_000);
});
