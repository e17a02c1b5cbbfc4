// Tool servers (MCP) declared in the system file (issue 28, first part): `troupe validate` checks
// the declarations and grants, `troupe tools` starts real MCP servers from npm and lists their
// tools, and a server is called with an allow-listed environment, a timeout and a bound on its
// answer's bytes.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSystem } from '../src/supervisor/index.js';
import { McpServer } from '../src/tool-host/index.js';
import { expectAllEnded, killAllCli, troupe } from './helpers/cli.js';
import { agentModule, mcpServer, ROOT } from './helpers/paths.js';
import { tempDir } from './helpers/system.js';

const children: ChildProcess[] = [];

afterEach(() => {
  killAllCli();
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A port free on the loopback interface now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((listening) => probe.listen(0, '127.0.0.1', listening));
  const { port } = probe.address() as { port: number };
  await new Promise((closed) => probe.close(closed));
  return port;
}

/** A system file in a fresh folder (with an agent module and a workspace), and its path. */
function system(body: string, grants = '[fs/read_text_file, mem]'): { file: string; dir: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'notes.txt'), 'first line\nsecond line\n');
  copyFileSync(agentModule('echo'), join(dir, 'echo.wasm'));
  const file = join(dir, 'tools.system.yaml');
  const agents = `agents:\n  - name: reader\n    module: echo.wasm\n    capabilities: { tools: ${grants} }\n`;
  writeFileSync(file, `name: tools\n${body}\n${agents}`);
  return { file, dir };
}

const SERVERS = `tools:
  - name: fs
    mcp: { command: ${process.execPath}, args: [${mcpServer('filesystem')}, "."] }
  - name: mem
    mcp: { command: ${process.execPath}, args: [${mcpServer('memory')}] }`;

describe('tool servers in the system file', () => {
  it("are read with their defaults, the stdio command running in the system file's folder", () => {
    const { file, dir } = system(`${SERVERS}\n    timeoutMs: 500`);
    const spec = loadSystem(file, { root: dir });
    expect(spec.tools.map((tool) => tool.name)).toEqual(['fs', 'mem']);
    expect(spec.tools[0]).toMatchObject({
      transport: { type: 'stdio', command: process.execPath, cwd: dir },
      timeoutMs: 30_000,
      maxAnswerBytes: 1024 * 1024,
      maxConcurrent: 4,
    });
    expect(spec.tools[1]?.timeoutMs).toBe(500);
    expect([...(spec.agents[0]?.tools ?? [])]).toEqual(['fs/read_text_file', 'mem']);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder users write, not a template.
  it('puts the system file\'s folder where "${systemFolder}" stands: the memory server keeps its file there', {
    timeout: 60_000,
  }, async () => {
    const { file, dir } = system(
      `tools:
  - name: mem
    mcp:
      command: ${process.execPath}
      args: [${mcpServer('memory')}]
      env: { MEMORY_FILE_PATH: "\${systemFolder}/notes/memory.jsonl" }
      cwd: "\${systemFolder}/notes"`,
      '[mem]',
    );
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'notes'));
    const spec = loadSystem(file, { root: dir }).tools[0] as Parameters<typeof McpServer.connect>[0];
    expect(spec.transport).toMatchObject({
      env: { MEMORY_FILE_PATH: join(dir, 'notes', 'memory.jsonl') },
      cwd: join(dir, 'notes'),
    });
    const mcp = await McpServer.connect(spec);
    try {
      const created = await mcp.call('create_entities', {
        entities: [{ name: 'notes.txt', entityType: 'document', observations: ['two lines'] }],
      });
      expect(created.ok).toBe(true);
      expect(readFileSync(join(dir, 'notes', 'memory.jsonl'), 'utf8')).toContain('"name":"notes.txt"');
      expect(
        existsSync(join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'notes')),
      ).toBe(false);
    } finally {
      await mcp.close();
    }
  });

  it('troupe validate names each wrong declaration and each grant of an undeclared server', {
    timeout: 30_000,
  }, async () => {
    const { file, dir } = system(`tools:
  - name: both
    mcp: { command: node }
    url: http://127.0.0.1:9/mcp
  - name: neither
  - name: fs
    url: http://127.0.0.1:9/mcp`);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('[fs/read_text_file, mem]', '[fs/read_text_file, mem, web]'),
    );
    const { code, stderr } = await troupe(['validate', file, '--root', dir]).exit;
    expect(code).toBe(1);
    expect(stderr).toContain(
      'tool server "both" needs mcp: (a command) or url: (an endpoint), one of them; it has both mcp: and url:',
    );
    expect(stderr).toContain(
      'tool server "neither" needs mcp: (a command) or url: (an endpoint), one of them; it has neither',
    );
    expect(stderr).toContain(
      'tool server "mem" is not declared in the system file\'s tools (declared: both, neither, fs)',
    );
    expect(stderr).toContain('tool server "web" is not declared');
  });

  it('troupe validate refuses a grant that is not a name, and a url that is not http', {
    timeout: 30_000,
  }, async () => {
    const { file, dir } = system(`tools:
  - name: fs
    url: ftp://127.0.0.1/mcp`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('fs/read_text_file', '"Read Files"'));
    const { code, stderr } = await troupe(['validate', file, '--root', dir]).exit;
    expect(code).toBe(1);
    expect(stderr).toContain('tools[0].url: must be an http:// or https:// URL (got "ftp://127.0.0.1/mcp")');
    expect(stderr).toContain(
      'capabilities.tools[0]: must be a tool server\'s name, or "<server>/<tool>" for one of its tools (got "Read Files")',
    );
  });
});

describe('troupe tools', () => {
  it('starts each real MCP server and lists its tools with their input schemas', {
    timeout: 60_000,
  }, async () => {
    const { file, dir } = system(SERVERS);
    const text = await troupe(['tools', file, '--root', dir]).exit;
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^fs: \d+ tools$/m);
    expect(text.stdout).toContain('  read_text_file(path: string, tail?: number, head?: number)');
    expect(text.stdout).toMatch(/^mem: \d+ tools$/m);
    expect(text.stdout).toContain('  create_entities(entities: array)');
    const json = await troupe(['tools', file, '--root', dir, '--json']).exit;
    const listings = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(listings.map((listing) => listing.server)).toEqual(['fs', 'mem']);
    const read = listings[0].tools.find((tool: { name: string }) => tool.name === 'read_text_file');
    expect(read.inputSchema).toMatchObject({
      type: 'object',
      required: ['path'],
      properties: { path: { type: 'string' } },
    });
  });

  it('names a server that cannot start, with what it said, and a grant of a tool its server lacks', {
    timeout: 60_000,
  }, async () => {
    const { file, dir } = system(`${SERVERS}
  - name: broken
    mcp: { command: ${process.execPath}, args: [-e, "process.stderr.write('no settings file'); process.exit(3)"] }`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('fs/read_text_file', 'fs/read_txt_file'));
    const { code, stdout, stderr } = await troupe(['tools', file, '--root', dir]).exit;
    expect(code).toBe(2);
    expect(stdout).toContain('broken: FAILED: tool server "broken" did not start');
    expect(stdout).toContain('(it said: no settings file)');
    expect(stderr).toContain(
      'agent "reader" is granted "fs/read_txt_file", but tool server "fs" has no tool "read_txt_file" (did you mean "fs/read_text_file"?)',
    );
  });
});

describe('a tool server called by the tool host', () => {
  it('reaches a Streamable HTTP server declared by url, on the loopback interface', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [mcpServer('everything'), 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    // It says so on stderr once it listens.
    await new Promise<void>((listening, failed) => {
      let said = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes('listening on port')) listening();
      });
      child.on('exit', (code) => failed(new Error(`server-everything ended (${code}): ${said}`)));
    });
    const { file, dir } = system(`tools:\n  - name: web\n    url: http://127.0.0.1:${port}/mcp`, '[web]');
    const mcp = await McpServer.connect(
      loadSystem(file, { root: dir }).tools[0] as Parameters<typeof McpServer.connect>[0],
    );
    try {
      expect((await mcp.listTools()).map((tool) => tool.name)).toContain('echo');
      expect(await mcp.call('echo', { message: 'over http' })).toEqual({
        ok: true,
        result: expect.stringContaining('over http'),
      });
      expect(mcp.pid).toBeUndefined();
    } finally {
      await mcp.close();
    }
  });

  const everything = (bounds: string) => {
    const { file, dir } = system(
      `tools:
  - name: every
    mcp: { command: ${process.execPath}, args: [${mcpServer('everything')}, stdio], env: { TROUPE_DECLARED: "yes" } }
${bounds}`,
      '[every]',
    );
    return loadSystem(file, { root: dir }).tools[0] as Parameters<typeof McpServer.connect>[0];
  };

  it('gets only the safe environment and what is declared, answers within its bounds, and ends its process', {
    timeout: 60_000,
  }, async () => {
    process.env.TROUPE_TEST_SECRET = 'must not leak';
    const mcp = await McpServer.connect(everything('    timeoutMs: 1500\n    maxAnswerBytes: 4096'));
    try {
      const env = await mcp.call('get-env', {});
      expect(env.ok).toBe(true);
      const seen = env.ok ? env.result : '';
      expect(seen).toContain('TROUPE_DECLARED');
      expect(seen).toContain('PATH');
      expect(seen).not.toContain('TROUPE_TEST_SECRET');
      const echo = await mcp.call('echo', { message: 'hello' });
      expect(echo).toEqual({ ok: true, result: expect.stringContaining('hello') });
      const big = await mcp.call('echo', { message: 'x'.repeat(10_000) });
      expect(big).toMatchObject({ ok: false, code: 'TOO_LARGE' });
      expect(big.ok ? '' : big.message).toMatch(
        /^"every\/echo" answered \d+ bytes, above its maxAnswerBytes 4096$/,
      );
      const slow = await mcp.call('trigger-long-running-operation', { duration: 30, steps: 3 });
      expect(slow).toEqual({
        ok: false,
        code: 'TIMEOUT',
        message: '"every/trigger-long-running-operation" did not answer within 1500 ms (timeoutMs)',
      });
      // A tool's own error (here MCP's for a tool that does not exist) comes with its text.
      const wrong = await mcp.call('no-such-tool', {});
      expect(wrong).toEqual({
        ok: false,
        code: 'TOOL_ERROR',
        message: expect.stringContaining(
          '"every/no-such-tool": MCP error -32602: Tool no-such-tool not found',
        ),
      });
    } finally {
      delete process.env.TROUPE_TEST_SECRET;
      const pid = mcp.pid;
      await mcp.close();
      await expectAllEnded([pid]);
    }
  });
});
