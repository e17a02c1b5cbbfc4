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

/**
 * Runs the ticker (tests/fixtures/js/ticker.ts, copied) with --watch under `command`, edits its
 * VERSION from v1 to v2 after tick 200, and checks the reload kept its mailbox; resolves to the
 * run's output.
 */
async function reloadTicker(
  command: string[],
  placement: { name: string; placement?: string },
  env: Record<string, string> = {},
): Promise<string> {
  const dir = tempDir();
  const agent = join(dir, 'ticker.ts');
  copyFileSync(join(FIXTURES, 'js', 'ticker.ts'), agent);
  const system = join(dir, 'watch.system.yaml');
  const { name, placement: node } = placement;
  const ticker = { name: 'ticker', module: './ticker.ts', ...(node ? { placement: node } : {}) };
  writeFileSync(
    system,
    JSON.stringify({ name, agents: [{ ...ticker, capabilities: { sendTo: ['ticker'] } }] }),
  );
  const run = troupe([...command, system, '--watch', '--control', '--root', dir], { stdin: true, env });
  // The first tick comes from outside; every later one is the ticker's own, waiting in its mailbox.
  run.child.stdin?.write(`${JSON.stringify({ op: 'inject', to: 'ticker', kind: 'tick', text: '1' })}\n`);
  await run.waitFor(/ticker +v1 tick 200/);
  writeFileSync(agent, readFileSync(agent, 'utf8').replace("const VERSION = 'v1'", "const VERSION = 'v2'"));
  await run.waitFor(/ticker: its source changed; reloading/);
  const resumed = await run.waitFor(/ticker +v2 tick \d+/);
  expect(Number(resumed.match(/v2 tick (\d+)/)?.[1])).toBeGreaterThan(200);
  run.child.kill('SIGINT');
  return (await run.exit).stdout;
}

describe('troupe run --watch', () => {
  it('reloads an agent whose source changed, keeping its mailbox', async () => {
    const stdout = await reloadTicker(['run'], { name: 'watch' });
    expect(stdout).toMatch(/ticker +CRASHED: reloaded: its module changed/);
  }, 60_000);

  it('reloads an agent placed on a node of a cluster: the node fetches the new module', async () => {
    // The node's cache starts empty: each version of the module is shipped to it.
    const stdout = await reloadTicker(
      ['cluster', '--nodes', '1'],
      { name: 'watch-cluster', placement: 'east' },
      { XDG_CACHE_HOME: tempDir() },
    );
    expect(stdout).toMatch(/ticker +host started on node "east"[\s\S]*ticker +host started on node "east"/);
  }, 60_000);

  it('does not go with a journal', async () => {
    const result = await troupe(['run', 'x.yaml', '--watch', '--journal', 'x.journal']).exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--watch does not go with --journal, --resume or --dashboard');
  }, 30_000);
});
