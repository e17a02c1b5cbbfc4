// Steering a cluster as one machine's run is steered: `troupe cluster --dashboard` serves the same
// UI as `troupe run --dashboard`, and real Chromium drives it (the agents on three nodes show
// running, an agent killed from the window restarts on its node, Ctrl+C ends the run and every
// node); `troupe cluster --control` takes the commands of `troupe run --control` on stdin.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { isAlive, killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

const CLUSTER = join(ROOT, 'examples/cluster/cluster.system.yaml');
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  killAllCli();
});

describe('cluster dashboard and control', () => {
  it('shows the agents on the nodes, kills one from the window (it restarts there), and stops with the cluster', async () => {
    const run = troupe(['cluster', CLUSTER, '--nodes', '3', '--dashboard', '--json']);
    const ready = JSON.parse(await run.waitFor(/"type":"cluster.ready"/)) as {
      pids: number[];
      natsPid: number;
    };
    const { url } = JSON.parse(await run.waitFor(/"type":"dashboard.ready"/)) as { url: string };
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(url);
    const text = (testId: string) => page.getByTestId(testId);
    await expect.poll(() => text('system').textContent()).toBe('hello-cluster');
    for (const agent of ['counter', 'ping', 'pong', 'picky'])
      await expect.poll(() => text(`state-${agent}`).textContent(), { timeout: 30_000 }).toBe('running');
    const restarts = async () => Number(await text('restarts-pong').textContent());
    const before = await restarts();
    await text('kill-pong').click();
    await expect.poll(restarts, { timeout: 30_000 }).toBe(before + 1);
    await expect.poll(() => text('state-pong').textContent(), { timeout: 30_000 }).toBe('running');
    run.child.kill('SIGINT');
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    // pong ran on west both times (its placement), and the run ended with a summary.
    const lines = parseJsonLines(stdout);
    const pongHosts = lines.filter((line) => line.type === 'agent.spawned' && line.agent === 'pong');
    expect(pongHosts.map((line) => line.node)).toEqual(['west', 'west']);
    expect(lines.at(-1)).toMatchObject({ type: 'run.end', ok: true });
    await expect
      .poll(() => [...ready.pids, ready.natsPid].filter((pid) => isAlive(pid)), { timeout: 20_000 })
      .toEqual([]);
  }, 120_000);

  it('takes control commands on stdin: a kill restarts the agent on its node, a stop ends the run', async () => {
    const run = troupe(['cluster', CLUSTER, '--nodes', '3', '--control', '--json'], { stdin: true });
    await run.waitFor(/"type":"control.ready"/);
    await run.waitFor(/"type":"agent.state","agent":"pong","state":"running"/);
    run.child.stdin?.write('{"op":"kill","agent":"pong"}\n');
    await run.waitFor(/"type":"agent.crashed","agent":"pong"/);
    // Started again on its node (waitFor would find the first start: count them).
    const starts = () =>
      run.lines.filter((line) => /"type":"agent.spawned","agent":"pong","node":"west"/.test(line));
    await expect.poll(() => starts().length, { timeout: 60_000 }).toBe(2);
    run.child.stdin?.write('{"op":"kill","agent":"nobody"}\n{"op":"stop"}\n');
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    const lines = parseJsonLines(stdout);
    expect(lines.filter((line) => line.type === 'agent.spawned' && line.agent === 'pong')).toHaveLength(2);
    expect(lines.find((line) => line.type === 'control.error')?.reason).toMatch(/no agent named "nobody"/);
    expect(lines.at(-1)).toMatchObject({ type: 'run.end', ok: true, reason: 'stopped by a control command' });
  }, 120_000);

  it('refuses --dashboard with a journal, and --port without --dashboard', async () => {
    const journal = await troupe(['cluster', CLUSTER, '--nodes', '3', '--dashboard', '--journal', 'x']).exit;
    expect(journal.code).toBe(1);
    expect(journal.stderr).toContain(
      '--dashboard does not go with --journal, --resume, --standby or --control',
    );
    const port = await troupe(['cluster', CLUSTER, '--nodes', '3', '--port', '8080']).exit;
    expect(port.code).toBe(1);
    expect(port.stderr).toContain('--port goes with --dashboard');
    const watch = await troupe(['cluster', CLUSTER, '--nodes', '3', '--watch', '--journal', 'x']).exit;
    expect(watch.code).toBe(1);
    expect(watch.stderr).toContain('--watch does not go with --journal, --resume, --standby or --dashboard');
  }, 60_000);
});
