// The window's debugging panels in real Chromium against a live `troupe run --dashboard`: agent
// logs (filter, search), the event timeline (crashes, restarts, the dead letter), charts with axes
// (uPlot), one agent in depth (states, mailbox, limits and their use, logs), and a layout that
// still works 800 px wide.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenWindow, openWindow } from './helpers/browser.js';
import { ROOT } from './helpers/paths.js';

const HELLO = join(ROOT, 'examples/hello/hello.system.yaml');
/** The screenshots docs/app.md shows, taken as each panel is checked. */
const shot = (name: string) => page.screenshot({ path: join(ROOT, 'docs/images', `window-${name}.png`) });

let opened: OpenWindow;
let page: Page;

beforeAll(async () => {
  opened = await openWindow(['run', HELLO, '--dashboard', '--json']);
  page = opened.page;
  // picky traps on hop 13 three times; the run then goes idle.
  await page
    .getByTestId('run-state')
    .filter({ hasText: /^idle$/ })
    .waitFor({ timeout: 30_000 });
}, 60_000);

afterAll(() => opened?.close(), 60_000);

const byTest = (testId: string) => page.getByTestId(testId);

describe('debugging panels in Chromium', () => {
  it('shows agent logs, filtered by agent and by a search', async () => {
    await byTest('tab-logs').click();
    const rows = byTest('log-row');
    await expect.poll(() => rows.filter({ hasText: 'refusing to handle 13' }).count()).toBe(3);
    expect(await rows.first().textContent()).toMatch(
      /t\d+picky\s*fatal\s*abort: picky: refusing to handle 13/,
    );
    await byTest('logs-agent').selectOption('pong');
    await expect.poll(() => rows.filter({ hasText: 'picky' }).count()).toBe(0);
    for (const row of await rows.all()) expect(await row.textContent()).toContain('pong');
    await byTest('logs-agent').selectOption('');
    await byTest('logs-search').fill('no such line');
    await expect.poll(() => rows.count()).toBe(0);
    await byTest('logs-search').fill('REFUSING');
    await expect.poll(() => rows.count()).toBe(3);
    await shot('logs');
    await byTest('logs-search').fill('');
  });

  it('puts crashes, restarts and the dead letter on the event timeline, in order', async () => {
    await byTest('tab-timeline').click();
    const rows = byTest('timeline-row');
    await expect.poll(() => rows.filter({ hasText: 'dead-letter' }).count()).toBe(1);
    const kinds = await rows.evaluateAll((elements) =>
      elements.map((element) => element.getAttribute('data-kind')),
    );
    expect(kinds.filter((kind) => kind === 'crash')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'restart').length).toBeGreaterThanOrEqual(2);
    // Restarts come after the crashes they answer.
    expect(kinds.indexOf('restart')).toBeGreaterThan(kinds.indexOf('crash'));
    const crash = rows.filter({ hasText: 'crash' }).first();
    expect(await crash.textContent()).toMatch(/picky.*refusing to handle 13/);
    await shot('timeline');
  });

  it('draws charts with axes and values on hover', async () => {
    await byTest('tab-charts').click();
    const chart = byTest('chart-rate');
    await expect.poll(() => chart.locator('canvas').count()).toBe(1);
    // Axes with labels, and a legend that names the series.
    expect(await chart.locator('.u-axis').count()).toBe(2);
    expect(await chart.textContent()).toContain('deliveries/s');
    expect(await chart.locator('.u-legend').textContent()).toContain('seconds');
    await expect
      .poll(async () => Number(await byTest('charts').getAttribute('data-points')))
      .toBeGreaterThan(3);
    // Hovering shows the value under the cursor in the legend.
    const box = await chart.locator('.u-over').boundingBox();
    if (!box) throw new Error('the chart has no plot area');
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
    await expect
      .poll(() => chart.locator('.u-legend .u-value').first().textContent())
      .toMatch(/\d+(\.\d)? s/);
    expect(await byTest('chart-mailboxes').textContent()).toContain('fullest mailbox');
    await shot('charts');
  });

  it('shows one agent in depth: states, mailbox, limits with their use, logs', async () => {
    await byTest('open-picky').click();
    await expect.poll(() => byTest('detail').getAttribute('data-agent')).toBe('picky');
    await expect.poll(() => byTest('detail-state').textContent()).toBe('running');
    const history = (await byTest('detail-history').textContent()) ?? '';
    expect(history).toMatch(/starting → .*running → .*crashed/);
    const facts = (await byTest('detail-facts').textContent()) ?? '';
    expect(facts).toMatch(/restarts3/);
    expect(facts).toMatch(/last crash.*refusing to handle 13/);
    expect(facts).toMatch(/memory pages\d+ of \d+ \(limits\.memoryPages/);
    expect(facts).toMatch(/fuel per message\d+ of \d+ \(limits\.fuel/);
    expect(await byTest('detail-logs').textContent()).toContain('refusing to handle 13');
    expect(await byTest('detail-mailbox').textContent()).toBe('empty');
    await shot('agent');
  });

  it('shows what waits in a paused agent mailbox, the payload as text', async () => {
    await byTest('pause').click();
    await expect.poll(() => byTest('run-state').textContent()).toBe('paused, idle');
    await byTest('inject-to').selectOption('counter');
    await byTest('inject-kind').fill('add');
    await byTest('inject-text').fill('{"waiting":true}');
    await byTest('inject-send').click();
    await byTest('open-counter').click();
    // Injected while paused, it enters the mailbox at the next tick boundary: on its way.
    const message = byTest('detail-in-transit').getByTestId('detail-message');
    await expect.poll(() => message.count()).toBe(1);
    expect(await message.textContent()).toBe(
      '@external#… from @external (add, 16 bytes, JSON){"waiting":true}',
    );
    await byTest('resume').click();
    await expect.poll(() => byTest('detail-mailbox').textContent()).toBe('empty');
  });

  it('stays usable 800 px wide: one column, nothing cut off sideways', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    const overflow = await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    for (const id of ['pause', 'kill-counter', 'inject-send', 'tab-logs']) {
      // Tree rows are drawn again with each snapshot: a button measured as it is replaced has no
      // box, so the right edge is asked for again until one is measured.
      const rightEdge = async () => {
        const box = await byTest(id).boundingBox();
        return box ? box.x + box.width : undefined;
      };
      await expect.poll(rightEdge, { message: id }).toBeLessThanOrEqual(800);
    }
    await shot('narrow');
    await page.setViewportSize({ width: 1400, height: 820 });
  });
});
