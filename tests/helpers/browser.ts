// Debian's Chromium driven by playwright-core (`npx playwright install` cannot download browsers
// here); .ci/run installs it when missing.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type CliRun, killAllCli, troupe } from './cli.js';

export const CHROMIUM = process.env.TROUPE_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root in CI has no user namespace sandbox; the closed network makes background fetches fail.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A `troupe` command serving the window (its `dashboard.ready` line gives the URL), open in Chromium. */
export interface OpenWindow {
  cli: CliRun;
  browser: Browser;
  page: Page;
  /** Ends the browser and the command (SIGINT, as a user would), whatever state they are in. */
  close(): Promise<void>;
}

export async function openWindow(args: string[]): Promise<OpenWindow> {
  const cli = troupe(args);
  const ready = JSON.parse(await cli.waitFor(/"type":"dashboard.ready"/)) as { url: string };
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
  await page.goto(ready.url);
  return {
    cli,
    browser,
    page,
    close: async () => {
      await browser.close();
      cli.child.kill('SIGINT');
      await cli.exit;
      killAllCli();
    },
  };
}
