// The window's virtual list in real Chromium: a list that follows its end keeps following when its
// box shrinks under it (the layout moves) before the scroll it set has been seen; only the user
// scrolling up stops it.
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { ROOT } from './helpers/paths.js';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    stdin: {
      contents: `import { VirtualList } from './src/ui/virtual-list.ts'; window.VirtualList = VirtualList;`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  await page.setContent(
    `<div id="list" style="position: relative; overflow-y: auto; height: 300px"></div>
     <script>${bundle.outputFiles[0]?.text ?? ''}</script>`,
  );
  await page.evaluate(`
    window.frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    window.list = new VirtualList(document.getElementById('list'), {
      rowHeight: 22,
      follow: true,
      key: (item) => String(item),
      render: (item, row) => { row.textContent = 'row ' + item; row.dataset.testid = 'row'; },
    });
    window.items = (count) => Array.from({ length: count }, (_, i) => i);
  `);
}, 60_000);

afterAll(async () => {
  await browser?.close();
}, 60_000);

const shown = () =>
  page.evaluate(
    `[...document.querySelectorAll('[data-testid="row"]')].map((row) => row.textContent)`,
  ) as Promise<string[]>;

describe('the virtual list in Chromium', () => {
  it('keeps following its end when its box shrinks before its own scroll is seen', async () => {
    await page.evaluate(`(async () => {
      list.setItems(items(100));
      // The layout moves: the box loses four rows' height before the scroll event comes.
      document.getElementById('list').style.height = '200px';
      await frame();
      list.setItems(items(130));
      await frame();
    })()`);
    expect(await shown()).toContain('row 129');
  });

  it('stops following once the user scrolls up, and follows again back at the end', async () => {
    await page.evaluate(`(async () => {
      const box = document.getElementById('list');
      box.scrollTop = 0;
      await frame();
      list.setItems(items(160));
      await frame();
    })()`);
    expect(await shown()).not.toContain('row 159');
    expect(await shown()).toContain('row 0');
    await page.evaluate(`(async () => {
      const box = document.getElementById('list');
      box.scrollTop = box.scrollHeight;
      await frame();
      list.setItems(items(170));
      await frame();
    })()`);
    expect(await shown()).toContain('row 169');
  });
});
