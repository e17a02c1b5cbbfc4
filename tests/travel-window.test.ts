// Time travel in the window, in real Chromium: `troupe inspect FILE --dashboard` opens a recorded
// run; the slider, steps and event jumps move through it, and tick N shows what `troupe inspect
// --tick N` shows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenWindow, openWindow } from './helpers/browser.js';
import { parseJsonLines, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

const HELLO = join(ROOT, 'examples/hello/hello.system.yaml');
let work: string;
let journal: string;
let opened: OpenWindow;
let page: Page;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'troupe-travel-window-'));
  journal = join(work, 'hello.journal');
  const recorded = await troupe(['run', HELLO, '--until-idle', '--journal', journal]).exit;
  if (recorded.code !== 0) throw new Error(recorded.stderr);
  opened = await openWindow(['inspect', journal, '--dashboard', '--json']);
  page = opened.page;
}, 60_000);

afterAll(async () => {
  await opened?.close();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

const byTest = (testId: string) => page.getByTestId(testId);
const travelTick = async () => Number(await page.locator('body').getAttribute('data-travel-tick'));

/** What `troupe inspect --tick N --json` says of each agent. */
async function inspectTick(tick: number) {
  const { stdout } = await troupe(['inspect', journal, '--tick', String(tick), '--json']).exit;
  return parseJsonLines(stdout) as unknown as Array<{
    agent: string;
    received: Array<{ id: string }>;
    mailbox: Array<{ id: string }>;
  }>;
}

describe('time travel in the window', () => {
  it('opens the recording at tick 1, read only', async () => {
    await expect.poll(travelTick).toBe(1);
    expect(await byTest('travel-bar').isVisible()).toBe(true);
    expect(await byTest('pause').isVisible()).toBe(false);
    expect(await byTest('kill-picky').isDisabled()).toBe(true);
    expect(await byTest('run-state').textContent()).toMatch(/^time travel: tick 1 of \d+$/);
    expect(await byTest('tt-note').textContent()).toMatch(/\d+ ticks recorded in .*hello\.journal/);
  });

  it('steps, jumps to marked ticks, and seeks with the slider to what inspect --tick shows', async () => {
    await byTest('tt-forward').click();
    await expect.poll(travelTick).toBe(2);
    await byTest('tt-back').click();
    await expect.poll(travelTick).toBe(1);
    // The first mark: picky's first crash, on hop 13.
    await byTest('tt-next-event').click();
    await expect.poll(travelTick).toBe(14);
    // picky crashed and was restarted at once: it has one restart at this tick.
    await expect.poll(() => byTest('restarts-picky').textContent()).toBe('1');
    // The slider (a range input) moves to tick 16.
    await byTest('tt-slider').evaluate((element) => {
      const input = element as unknown as { value: string; dispatchEvent(event: unknown): boolean };
      input.value = '16';
      input.dispatchEvent(
        new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('input'),
      );
    });
    await expect.poll(travelTick).toBe(16);
    for (const agent of await inspectTick(16)) {
      await expect
        .poll(() => byTest(`mailbox-${agent.agent}`).textContent())
        .toBe(String(agent.mailbox.length));
      await expect
        .poll(() => byTest(`delivered-${agent.agent}`).textContent())
        .toBe(String(agent.received.length));
    }
  });

  it('shows an agent at a tick: what it received, sent, held and logged', async () => {
    await byTest('tt-tick').fill('14');
    await byTest('tt-tick').press('Enter');
    await expect.poll(travelTick).toBe(14);
    await byTest('open-picky').click();
    await expect.poll(() => byTest('detail').getAttribute('data-tick')).toBe('14');
    const [picky] = (await inspectTick(14)).filter((agent) => agent.agent === 'picky');
    const received = byTest('detail-received').getByTestId('detail-message');
    await expect.poll(() => received.count()).toBe(picky?.received.length);
    expect(await received.first().textContent()).toContain(picky?.received[0]?.id);
    expect(await byTest('detail-logs').textContent()).toContain('refusing to handle 13');
    await page.screenshot({ path: join(ROOT, 'docs/images/window-travel.png') });
  });

  it('lists the marked ticks as events, and a click on one moves there', async () => {
    await byTest('tab-timeline').click();
    const crashes = page.locator('[data-testid="timeline-row"][data-kind="crash"]');
    await expect.poll(() => crashes.count()).toBe(3);
    await crashes.nth(2).click();
    await expect.poll(travelTick).toBeGreaterThan(14);
  });
});
