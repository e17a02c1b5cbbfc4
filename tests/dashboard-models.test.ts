// The dashboard's models panel on the inference example: the GPU host's models with the provider
// in use, answers, runs and batch sizes; and the screenshot of it the docs use.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { killAllCli, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

const cli = troupe(['run', join(ROOT, 'examples/inference/inference.system.yaml'), '--dashboard', '--json']);

afterAll(async () => {
  cli.child.kill('SIGINT');
  await cli.exit;
  killAllCli();
});

it('shows each model with its provider, answers and batch sizes', async () => {
  const ready = JSON.parse(await cli.waitFor(/"type":"dashboard.ready"/)) as { url: string };
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
    await page.goto(ready.url);
    const row = page.getByTestId('models').locator('tr').nth(1);
    await expect.poll(() => row.textContent()).toMatch(/^mlpreadycpu40\d+\d+[2-8]0$/);
    expect(await row.getAttribute('title')).toMatch(/^cuda: .*Failed to load shared library/);
    await expect.poll(() => page.getByTestId('state-alice').textContent()).toBe('stopped');
    await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-models.png') });
  } finally {
    await browser.close();
  }
});
