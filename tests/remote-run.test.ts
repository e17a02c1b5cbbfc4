// A remote model in a run (issue 28): an agent asks a model behind an OpenAI-compatible server,
// carries out the tool call it answers with through a real MCP server, and gives the model the
// result. The journal holds the model's tokens and the tool's answer, so the replay gets the same
// trace with the model's server closed and the tool server's command broken, and so does --resume:
// nothing is asked again.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllCli, troupe } from './helpers/cli.js';
import { assistantProject, closeOpenAiServers, startOpenAiServer } from './helpers/openai-server.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterEach(async () => {
  killAllCli();
  await closeOpenAiServers();
  removeTempDirs();
});

const ASSISTANT = `import {
  defineAgent, GENERATE_DONE, GENERATE_TOKEN, INFER_ERROR, readGeneration, readInferError,
  readToolError, readToolResult, TOOL_ERROR, TOOL_RESULT,
} from 'troupe/agent';
const tools = [{
  name: 'read_text_file',
  description: 'Reads a text file of the workspace',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
}];
export default defineAgent({
  state: { chat: [{ role: 'user', content: 'what do my notes say?' }], tokens: 0 },
  init(ctx) { ctx.generate('agentic', ctx.state.chat, { tools }); },
  on: {
    [GENERATE_TOKEN](_message, ctx) { ctx.state.tokens++; },
    [GENERATE_DONE](message, ctx) {
      const result = readGeneration(message);
      const [call] = result.toolCalls;
      if (!call) return ctx.log(\`answer after \${ctx.state.tokens} tokens: \${result.text}\`);
      ctx.log(\`the model calls \${call.name} \${call.arguments}\`);
      ctx.state.chat.push({ role: 'assistant', content: result.text, toolCalls: result.toolCalls });
      ctx.state.pending = call.id;
      ctx.callTool('fs', call.name, JSON.parse(call.arguments));
    },
    [TOOL_RESULT](message, ctx) {
      const text = readToolResult(message).text;
      ctx.state.chat.push({ role: 'tool', content: text.trim(), toolCallId: ctx.state.pending });
      ctx.generate('agentic', ctx.state.chat, { tools });
    },
    [TOOL_ERROR](message, ctx) { ctx.log(\`tool error: \${readToolError(message).message}\`); },
    [INFER_ERROR](message, ctx) { ctx.log(\`model error: \${readInferError(message).message}\`); },
  },
});
`;

describe('a remote model in a run', () => {
  it("carries out the model's tool call, and replays from the journal asking neither server again", {
    timeout: 90_000,
  }, async () => {
    const server = await startOpenAiServer();
    const root = tempDir();
    const file = assistantProject(root, server, ASSISTANT, 'remote');
    const live = await troupe(['run', file, '--root', root, '--until-idle', '--json']).exit;
    expect(live.code, live.stderr).toBe(0);
    expect(live.stderr).toContain('this run is live');
    const journal = join(root, 'remote.journal');
    const ran = await troupe(['run', file, '--root', root, '--until-idle', '--journal', journal, '--json'])
      .exit;
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).not.toContain('this run is live');
    expect(ran.stdout).toContain('the model calls read_text_file {\\"path\\":\\"notes.txt\\"}');
    expect(ran.stdout).toContain('answer after 5 tokens: The tool said: buy milk');
    const end = JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(server.requests).toHaveLength(4);
    // Neither server can answer now.
    await server.close();
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/mcp: \{[^}]*\}/, 'mcp: { command: /nonexistent/server }'),
    );
    const replayed = await troupe(['replay', journal, '--system', file, '--root', root, '--json']).exit;
    expect(replayed.code, replayed.stderr).toBe(0);
    const replayEnd = JSON.parse(replayed.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(replayEnd.trace).toBe(end.trace);
    expect(replayed.stdout).toContain('answer after 5 tokens: The tool said: buy milk');
    expect(replayed.stdout).not.toContain('"gpu.spawned"');
    // Resumed, the recorded part is fed from the journal too; the run then goes on live.
    const resumed = await troupe([
      'run',
      file,
      '--root',
      root,
      '--journal',
      journal,
      '--resume',
      '--until-idle',
      '--json',
    ]).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('answer after 5 tokens: The tool said: buy milk');
    expect(resumed.stdout).toContain('"run.live"');
    expect(server.requests).toHaveLength(4);
  });
});
