// The supervisor window under load: 100 agents and thousands of deliveries a second. Lists are
// virtualised (the page holds a screenful of rows, not 100 or thousands) and the page keeps
// drawing snapshots and answering clicks.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { killAllCli, troupe } from './helpers/cli.js';
import { agentModule } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterAll(() => {
  killAllCli();
  removeTempDirs();
});

it('stays live with 100 agents and thousands of messages per second', async () => {
  const dir = tempDir();
  const file = join(dir, 'load.system.yaml');
  const idle = Array.from({ length: 96 }, (_, i) => ({
    name: `idle-${String(i).padStart(2, '0')}`,
    module: agentModule('echo'),
  }));
  const blaster = (name: string, to: string) => ({
    name,
    module: agentModule('blaster'),
    init: `to=${to};count=500;size=16;self=${name}`,
    limits: { maxSendsPerMessage: 100_000 },
    capabilities: { sendTo: ['*'] },
  });
  const sink = (name: string) => ({ name, module: agentModule('sink'), limits: { mailbox: 10_000_000 } });
  const system = {
    name: 'load',
    agents: [
      blaster('blaster-a', 'sink-a'),
      sink('sink-a'),
      blaster('blaster-b', 'sink-b'),
      sink('sink-b'),
      ...idle,
    ],
  };
  writeFileSync(file, JSON.stringify(system));
  const cli = troupe(['run', file, '--root', '/', '--dashboard', '--json']);
  const ready = JSON.parse(await cli.waitFor(/"type":"dashboard.ready"/)) as { url: string };
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
    await page.goto(ready.url);
    // The list knows all 101 rows (root + 100 agents) but draws only those in view.
    const treeRows = page.getByTestId('tree').locator('.row');
    await expect
      .poll(() => page.getByTestId('state-sink-a').textContent(), { timeout: 60_000 })
      .toBe('running');
    // Deliveries flow and the page follows them (how fast is for bench/, not for a test).
    const rate = async () => Number((await page.getByTestId('rate').textContent())?.split(' ')[0]);
    // The first tick waits for all 100 agents to start (one host start per core at a time).
    await expect.poll(rate, { timeout: 90_000 }).toBeGreaterThan(0);
    const delivered = Number(await page.getByTestId('delivered-sink-a').textContent());
    await expect
      .poll(async () => Number(await page.getByTestId('delivered-sink-a').textContent()))
      .toBeGreaterThan(delivered);
    expect(await treeRows.count()).toBeLessThan(50);
    await page.getByTestId('tree').evaluate((element) => {
      element.scrollTop = element.scrollHeight;
    });
    await expect.poll(() => page.getByTestId('state-idle-95').textContent()).toBe('running');
    expect(await treeRows.count()).toBeLessThan(50);
    // Thousands of trace lines arrive; a screenful is drawn.
    await expect.poll(async () => page.getByTestId('trace-row').count()).toBeGreaterThan(5);
    expect(await page.getByTestId('trace-row').count()).toBeLessThan(80);
    const seq = Number(await page.getAttribute('body', 'data-seq'));
    await expect
      .poll(async () => Number(await page.getAttribute('body', 'data-seq')))
      .toBeGreaterThan(seq + 4);
    // Still answering clicks under load.
    await page.getByTestId('pause').click();
    await expect.poll(() => page.getByTestId('run-state').textContent()).toBe('paused');
    await page.getByTestId('resume').click();
    await expect.poll(() => page.getByTestId('run-state').textContent()).toBe('running');
  } finally {
    await browser.close();
    cli.child.kill('SIGINT');
    await cli.exit;
  }
}, 180_000);
