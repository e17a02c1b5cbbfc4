// Tools in a run (issue 28): a TypeScript agent calls a real MCP server's tool through the tool
// host, a call outside its grant is refused NOT_GRANTED, and the journal replays the answers with
// no server started (its command replaced by one that fails).
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSystem } from '../src/supervisor/index.js';
import { expectAllEnded, killAllCli, troupe } from './helpers/cli.js';
import { agentModule, FIXTURES, mcpServer, ROOT } from './helpers/paths.js';
import { killAllHosts, logsOf, removeTempDirs, startRun, tempDir } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

const READER = `import { defineAgent, readToolError, readToolResult, TOOL_ERROR, TOOL_RESULT } from 'troupe/agent';
export default defineAgent({
  init(ctx) {
    ctx.callTool('fs', 'read_text_file', { path: 'notes.txt' });
    ctx.callTool('fs', 'write_file', { path: 'summary.txt', content: 'nope' });
    ctx.callTool('nowhere', 'x');
  },
  on: {
    [TOOL_RESULT](message, ctx) { ctx.log(\`result: \${readToolResult(message).text}\`); },
    [TOOL_ERROR](message, ctx) {
      const error = readToolError(message);
      ctx.log(\`error: \${error.code}: \${error.message}\`);
    },
  },
});
`;

function project(): { file: string; root: string } {
  const root = tempDir();
  writeFileSync(join(root, 'notes.txt'), 'tools reach the world\n');
  writeFileSync(join(root, 'reader.ts'), READER);
  const server = mcpServer('filesystem');
  const file = join(root, 'tools.system.yaml');
  writeFileSync(
    file,
    `name: tools
tools:
  - name: fs
    mcp: { command: ${process.execPath}, args: [${server}, "."] }
agents:
  - name: reader
    module: reader.ts
    capabilities: { tools: [fs/read_text_file] }
`,
  );
  return { file, root };
}

const CALLER = `import { defineAgent, readToolError, readToolResult, TOOL_ERROR, TOOL_RESULT } from 'troupe/agent';
export default defineAgent({
  init(ctx) { ctx.callTool('crashing', 'hang'); },
  on: {
    [TOOL_RESULT](message, ctx) { ctx.log(\`result: \${readToolResult(message).text.split(' from ')[0]}\`); },
    [TOOL_ERROR](message, ctx) {
      ctx.log(\`error: \${readToolError(message).code}\`);
      ctx.callTool('crashing', 'echo', { text: 'after the restart' });
    },
  },
});
`;

describe('the tools example', () => {
  const example = join(ROOT, 'examples', 'tools');
  const out = join(example, 'workspace', 'out');
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('reads the workspace through the filesystem server, notes each file in the memory server and writes its summary, the same way twice', {
    timeout: 90_000,
  }, async () => {
    const traces: string[] = [];
    for (let run = 0; run < 2; run++) {
      const ran = await troupe(['run', join(example, 'tools.system.yaml'), '--until-idle', '--json']).exit;
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toContain('wrote workspace/out/summary.md: 3 files');
      traces.push(JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? '{}').trace);
    }
    expect(traces[1]).toBe(traces[0]);
    // Its notes: one entity per file in the memory server's graph, the same after the second run.
    const notes = readFileSync(join(out, 'notes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(notes.map((note) => note.name)).toEqual(['actors.md', 'replay.txt', 'sandbox.md']);
    expect(notes[0].observations).toEqual(['titled "Actors"', '4 lines, 43 words']);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('| actors.md | Actors | 4 | 43 |');
    expect(summary).toContain('| sandbox.md | The sandbox | 3 | 32 |');
  });
});

describe('tools in a run', () => {
  it('answers the calls a killed tool host held LOST, once, and its supervisor starts it again', {
    timeout: 60_000,
  }, async () => {
    const root = tempDir();
    writeFileSync(join(root, 'caller.ts'), CALLER);
    const file = join(root, 'crash.system.yaml');
    const server = join(FIXTURES, 'mcp', 'crashing-server.mjs');
    writeFileSync(
      file,
      `name: crash
tools:
  - name: crashing
    mcp: { command: ${process.execPath}, args: [${server}] }
agents:
  - name: caller
    module: caller.ts
    capabilities: { tools: [crashing] }
`,
    );
    // Once the call has gone to the tool host, the tool host dies.
    const run = startRun(loadSystem(file, { root }), {
      onEvent: (event) => {
        if (event.type !== 'tool.call' || event.tool !== 'hang') return;
        const pid = run.events.find((spawned) => spawned.type === 'tools.spawned')?.pid;
        if (pid) process.kill(pid, 'SIGKILL');
      },
    });
    const summary = await run.done;
    expect(summary.ok, summary.reason).toBe(true);
    const logs = logsOf(run.events, 'caller');
    expect(logs).toEqual(['error: LOST', 'result: after the restart']);
    const spawned = run.events.filter((event) => event.type === 'tools.spawned');
    expect(spawned.map((event) => (event.type === 'tools.spawned' ? event.restarts : -1))).toEqual([0, 1]);
    expect(
      run.events.some((event) => event.type === 'supervisor.decided' && event.agents.includes('@tools')),
    ).toBe(true);
  });

  it("answers a granted call with the tool's result, and refuses the others by name", {
    timeout: 60_000,
  }, async () => {
    const { file, root } = project();
    const run = startRun(loadSystem(file, { root }));
    const summary = await run.done;
    expect(summary.ok, summary.reason).toBe(true);
    const logs = logsOf(run.events, 'reader');
    expect(logs).toContain('result: tools reach the world\n');
    expect(logs).toContain(
      'error: NOT_GRANTED: "reader" may not call "fs/write_file" (not in its capabilities.tools)',
    );
    expect(logs).toContain(
      'error: UNKNOWN_SERVER: no tool server "nowhere" is declared in this system (tools: fs)',
    );
    expect(run.events.some((event) => event.type === 'tool.ready' && event.server === 'fs')).toBe(true);
    // The refused call wrote nothing.
    expect(() => readFileSync(join(root, 'summary.txt'))).toThrow();
    const pids = run.events.flatMap((event) =>
      event.type === 'tools.spawned' || event.type === 'tool.ready' ? [event.pid ?? 0] : [],
    );
    await expectAllEnded(pids);
  });

  it('serves an AssemblyScript agent the same way: callTool, readToolResult, readToolError', {
    timeout: 60_000,
  }, async () => {
    const root = tempDir();
    writeFileSync(join(root, 'notes.txt'), 'tools reach "the world" — from WebAssembly\n');
    copyFileSync(agentModule('archivist'), join(root, 'archivist.wasm'));
    const server = mcpServer('filesystem');
    const file = join(root, 'as.system.yaml');
    writeFileSync(
      file,
      `name: as-tools
tools:
  - name: fs
    mcp: { command: ${process.execPath}, args: [${server}, "."] }
agents:
  - name: archivist
    module: archivist.wasm
    init: "file=notes.txt; denied=write_file"
    capabilities: { tools: [fs/read_text_file] }
`,
    );
    const run = startRun(loadSystem(file, { root }));
    const summary = await run.done;
    expect(summary.ok, summary.reason).toBe(true);
    expect(logsOf(run.events, 'archivist').sort()).toEqual([
      'NOT_GRANTED: "archivist" may not call "fs/write_file" (not in its capabilities.tools)',
      'result for archivist#1: tools reach "the world" — from WebAssembly\n',
    ]);
  });

  it('replays a journaled run to the same trace without starting a server', { timeout: 90_000 }, async () => {
    const { file, root } = project();
    const journal = join(root, 'tools.journal');
    const ran = await troupe(['run', file, '--root', root, '--until-idle', '--journal', journal, '--json'])
      .exit;
    expect(ran.code, ran.stderr).toBe(0);
    const end = JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(ran.stdout).toContain('tools reach the world');
    // No server can start now: a replay must not need one.
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/mcp: \{[^}]*\}/, 'mcp: { command: /nonexistent/server }'),
    );
    const replayed = await troupe(['replay', journal, '--system', file, '--root', root, '--json']).exit;
    expect(replayed.code, replayed.stderr).toBe(0);
    const replayEnd = JSON.parse(replayed.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(replayEnd.trace).toBe(end.trace);
    expect(replayed.stdout).not.toContain('"tools.spawned"');
  });
});
