import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenWindow, openWindow } from './helpers/browser.js';
import { assistantProject, closeOpenAiServers, startOpenAiServer } from './helpers/openai-server.js';
import { ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

const ASSISTANT = `import {
  defineAgent, GENERATE_DONE, readGeneration, readToolResult, TOOL_RESULT,
} from 'troupe/agent';
const tools = [{ name: 'read_text_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }];
export default defineAgent({
  state: { chat: [{ role: 'user', content: 'what do my notes say?' }], call: '' },
  init(ctx) {
    ctx.generate('agentic', ctx.state.chat, { tools });
    ctx.callTool('fs', 'write_file', { path: 'x.txt', content: 'no' });
    ctx.callTool('nowhere', 'x');
  },
  on: {
    [GENERATE_DONE](message, ctx) {
      const { text, toolCalls } = readGeneration(message);
      const [call] = toolCalls;
      if (!call) return ctx.log(text);
      ctx.state.chat.push({ role: 'assistant', content: text, toolCalls });
      ctx.state.call = call.id;
      ctx.callTool('fs', call.name, JSON.parse(call.arguments));
    },
    [TOOL_RESULT](message, ctx) {
      ctx.state.chat.push({ role: 'tool', content: readToolResult(message).text.trim(), toolCallId: ctx.state.call });
      ctx.generate('agentic', ctx.state.chat, { tools });
    },
  },
});
`;

let opened: OpenWindow;
let page: Page;
const byTest = (testId: string) => page.getByTestId(testId);

beforeAll(async () => {
  const server = await startOpenAiServer();
  const root = tempDir();
  const file = assistantProject(root, server, ASSISTANT, 'calls');
  opened = await openWindow(['run', file, '--root', root, '--dashboard', '--json']);
  page = opened.page;
  await byTest('run-state')
    .filter({ hasText: /^idle$/ })
    .waitFor({ timeout: 60_000 });
}, 90_000);

afterAll(async () => {
  await opened?.close();
  await closeOpenAiServers();
  removeTempDirs();
}, 60_000);

describe("the window's view of calls", () => {
  it("lists each call in the agent's detail: what, arguments, answer or error, ticks and time", async () => {
    await byTest('open-assistant').click();
    const calls = byTest('detail-calls').getByTestId('detail-call');
    await expect.poll(() => calls.count()).toBe(5);
    const texts = await calls.allTextContents();
    const find = (part: string) => texts.find((text) => text.includes(part)) ?? '';
    expect(find('fs/read_text_file')).toMatch(/args \{"path":"notes.txt"\}answer buy milk/);
    expect(find('fs/read_text_file')).toMatch(/\(t\d+ → t\d+, \d+ ms\)/);
    // The model's two turns: the tool call it asked for, then its answer with the tokens streamed.
    const turns = texts.filter((text) => text.includes('generate agentic'));
    expect(turns).toHaveLength(2);
    expect(turns[0]).toContain('args user: what do my notes say? (+1 tool)');
    expect(turns[0]).toContain('→ calls read_text_file({"path":"notes.txt"}) [tool_calls]');
    expect(turns[1]).toMatch(/5 tokens\).*answer The tool said: buy milk \[eos\]/);
    const refused = texts.filter((text) => text.includes('refused before it went out'));
    expect(refused).toHaveLength(2);
    expect(refused.join('\n')).toContain('error NOT_GRANTED: "assistant" may not call "fs/write_file"');
    expect(refused.join('\n')).toContain('error UNKNOWN_SERVER: no tool server "nowhere"');
    expect(await calls.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-state')))).toEqual(
      expect.arrayContaining(['ok', 'error']),
    );
    // In the page itself, in one step: the window redraws the detail as the run's state comes in,
    // and Playwright's scrollIntoViewIfNeeded failed on a fresh clone when it was redrawn between
    // finding the element and scrolling ("Element is not attached to the DOM").
    await page.evaluate(`document.querySelector('[data-testid="detail-calls"]')?.scrollIntoView()`);
    await page.screenshot({ path: join(ROOT, 'docs/images/window-calls.png') });
  });

  it('puts each answered call on the timeline, the failed ones marked', async () => {
    await byTest('tab-timeline').click();
    const rows = byTest('timeline-row');
    // Rows drawn while the tab was hidden are there at once; the rest come with the next frame.
    const kinds = async () => {
      const all = await rows.evaluateAll((elements) => elements.map((element) => element.dataset.kind));
      return {
        call: all.filter((kind) => kind === 'call').length,
        failed: all.filter((kind) => kind === 'call-failed').length,
      };
    };
    await expect.poll(kinds).toEqual({ call: 3, failed: 2 });
    expect(await rows.filter({ hasText: 'fs/read_text_file' }).textContent()).toMatch(
      /fs\/read_text_file \{"path":"notes.txt"\} → ok: buy milk \(\d+ ticks, \d+ ms\)/,
    );
  });

  it("shows on a call's answer in the trace which call it ends", async () => {
    await byTest('tab-trace').click();
    const answers = page.locator('[data-testid="trace-row"][data-call="answer"]');
    await expect.poll(() => answers.count()).toBe(5);
    const texts = await answers.allTextContents();
    expect(texts.some((text) => /@tool\/fs.*troupe\/tool\.result.*fs\/read_text_file/.test(text))).toBe(true);
  });
});
