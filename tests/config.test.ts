// Config files: validated once into typed specs; every error names file, line, field and value.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  actorSchema,
  ConfigError,
  type ConfigIssue,
  loadSystem,
  systemSchema,
  validateFile,
} from '../src/supervisor/index.js';
import { agentModule, ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterEach(removeTempDirs);

/** A project folder with package.json, echo.wasm and the given files. */
function project(files: Record<string, string>): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), '{}');
  copyFileSync(agentModule('echo'), join(dir, 'echo.wasm'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function issuesOf(action: () => unknown): ConfigIssue[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const minimalSystem = (agents: string) => `name: demo\nagents:\n${agents}`;

describe('valid files', () => {
  it('loads the hello example with defaults filled in', () => {
    const spec = loadSystem(join(ROOT, 'examples/hello/hello.system.yaml'));
    expect(spec.name).toBe('hello');
    expect(spec.seed).toBe(42);
    expect(spec.root).toBe(ROOT);
    expect(spec.agents.map((agent) => agent.name)).toEqual(['counter', 'ping', 'pong', 'picky']);
    const ping = spec.agents[1];
    expect(ping?.modulePath).toBe(join(ROOT, 'wasm/build/relay.wasm'));
    expect(ping?.restart).toBe('permanent');
    expect(ping?.limits.maxMessageBytes).toBe(1024 * 1024);
    expect(ping?.sendTo).toEqual(new Set(['pong', 'picky', 'counter']));
    expect(new TextDecoder().decode(ping?.initData)).toContain('peer=pong');
    expect(ping?.declaredAt).toMatch(/ping\.actor\.yaml:\d+$/);
  });

  it('applies every default to an inline actor', () => {
    const dir = project({ 'a.system.yaml': minimalSystem('  - name: solo\n    module: ./echo.wasm\n') });
    const spec = loadSystem(join(dir, 'a.system.yaml'));
    expect(spec.scheduler).toEqual({ maxBatch: 1024, retryLimit: 2, inference: 'live' });
    expect(spec.supervisor).toEqual({
      name: 'demo',
      strategy: 'one_for_one',
      maxRestarts: 5,
      periodMs: 10_000,
      backoff: { initialTicks: 1, maxTicks: 64, multiplier: 2, jitter: 0 },
      children: [{ agent: 'solo' }],
    });
    expect(spec.agents[0]).toMatchObject({ restart: 'permanent', isolation: 'process', sendTo: new Set() });
  });

  it("gives agents their nearest supervisor's isolation unless they set their own", () => {
    const dir = project({
      'a.system.yaml': [
        'name: demo',
        'supervisor: { isolation: shared }',
        'agents:',
        '  - { name: a, module: ./echo.wasm }',
        '  - { name: b, module: ./echo.wasm, isolation: process }',
        '  - supervisor: inner',
        '    isolation: thread',
        '    agents:',
        '      - { name: c, module: ./echo.wasm }',
        '      - { name: d, module: ./echo.wasm, isolation: shared }',
        '',
      ].join('\n'),
    });
    const spec = loadSystem(join(dir, 'a.system.yaml'));
    expect(Object.fromEntries(spec.agents.map((agent) => [agent.name, agent.isolation]))).toEqual({
      a: 'shared',
      b: 'process',
      c: 'thread',
      d: 'shared',
    });
  });

  it('encodes init data: strings as UTF-8, anything else as JSON', () => {
    const dir = project({
      'a.system.yaml': minimalSystem(
        '  - name: s\n    module: ./echo.wasm\n    init: hello\n  - name: j\n    module: ./echo.wasm\n    init: { n: 3 }\n',
      ),
    });
    const [s, j] = loadSystem(join(dir, 'a.system.yaml')).agents;
    expect(new TextDecoder().decode(s?.initData)).toBe('hello');
    expect(new TextDecoder().decode(j?.initData)).toBe('{"n":3}');
  });
});

describe('errors name file, line, field and value', () => {
  it('wrong type', () => {
    const dir = project({
      'a.system.yaml': `name: demo\nseed: lots\nagents:\n  - name: a\n    module: ./echo.wasm\n`,
    });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({ line: 2, field: 'seed', message: 'must be integer (got "lots")' });
    expect(issue?.file).toMatch(/a\.system\.yaml$/);
  });

  it('unknown field, pointed at its key, in the actor file that has it', () => {
    const dir = project({
      'a.system.yaml': minimalSystem('  - ./b.actor.yaml\n'),
      'b.actor.yaml': 'name: b\nmodule: ./echo.wasm\ncolour: blue\n',
    });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({ line: 3, column: 1, field: 'colour', message: 'unknown field "colour"' });
    expect(issue?.file).toMatch(/b\.actor\.yaml$/);
  });

  it('bad enum value, with the choices', () => {
    const dir = project({
      'a.system.yaml': minimalSystem('  - name: a\n    module: ./echo.wasm\n    restart: sometimes\n'),
    });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({
      line: 5,
      field: 'agents[0].restart',
      message: 'must be one of permanent, transient, temporary (got "sometimes")',
    });
  });

  it('missing required field', () => {
    const dir = project({ 'a.system.yaml': minimalSystem('  - name: a\n') });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({ line: 3, field: 'agents[0]', message: 'missing required field "module"' });
  });

  it('missing module file', () => {
    const dir = project({ 'a.system.yaml': minimalSystem('  - name: a\n    module: ./nope.wasm\n') });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({ line: 4, field: 'agents[0].module' });
    expect(issue?.message).toMatch(/^file "\.\/nope\.wasm" not found/);
  });

  it('missing actor file', () => {
    const dir = project({ 'a.system.yaml': minimalSystem('  - ./gone.actor.yaml\n') });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({
      line: 3,
      field: 'agents[0]',
      message: expect.stringContaining('not found'),
    });
  });

  it('a path that leaves the project root', () => {
    const dir = project({
      'sub/a.system.yaml': minimalSystem('  - name: a\n    module: ../../../../etc/hostname\n'),
    });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'sub/a.system.yaml')));
    expect(issue).toMatchObject({ line: 4, field: 'agents[0].module' });
    expect(issue?.message).toMatch(/leaves the project root/);
  });

  it('a symbolic link that leads out of the project root', () => {
    const dir = project({ 'a.system.yaml': minimalSystem('  - name: a\n    module: ./link.wasm\n') });
    const outside = join(tempDir(), 'outside.wasm');
    copyFileSync(agentModule('echo'), outside);
    symlinkSync(outside, join(dir, 'link.wasm'));
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue?.message).toMatch(/links outside the project root/);
  });

  it('YAML syntax errors', () => {
    const dir = project({ 'a.system.yaml': 'name: demo\nagents:\n  - name: a\n   module: [unclosed\n' });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue?.line).toBeGreaterThanOrEqual(3);
    expect(issue?.file).toMatch(/a\.system\.yaml$/);
  });

  it('an alias to no anchor (the fuzzer found it threw a raw ReferenceError)', () => {
    const dir = project({
      'a.system.yaml': 'name: demo\nagents:\n  - name: *nowhere\n    module: ./echo.wasm\n',
    });
    const [issue] = issuesOf(() => loadSystem(join(dir, 'a.system.yaml')));
    expect(issue).toMatchObject({ line: 3, message: expect.stringContaining('nowhere') });
  });

  it('duplicate names and capabilities naming unknown agents', () => {
    const dir = project({
      'a.system.yaml': minimalSystem(
        '  - name: a\n    module: ./echo.wasm\n    capabilities: { sendTo: [ghost] }\n  - name: a\n    module: ./echo.wasm\n',
      ),
    });
    const messages = issuesOf(() => loadSystem(join(dir, 'a.system.yaml'))).map((issue) => issue.message);
    expect(messages).toContainEqual(expect.stringContaining('duplicate agent name "a"'));
    expect(messages).toContainEqual(expect.stringContaining('names "ghost", which is not an agent'));
  });

  it('reports every problem at once, not just the first', () => {
    const dir = project({ 'a.system.yaml': 'name: Bad Name\nseed: -1\nagents: []\nextra: 1\n' });
    const fields = issuesOf(() => loadSystem(join(dir, 'a.system.yaml'))).map((issue) => issue.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'seed', 'agents', 'extra']));
  });

  it('formats as file:line:column: field: message', () => {
    const dir = project({
      'a.system.yaml': `name: demo\nseed: lots\nagents:\n  - name: a\n    module: ./echo.wasm\n`,
    });
    expect(() => loadSystem(join(dir, 'a.system.yaml'))).toThrow(
      /a\.system\.yaml:2:7: seed: must be integer \(got "lots"\)/,
    );
  });

  it('validates a lone actor file', () => {
    const dir = project({ 'b.actor.yaml': 'name: b\nmodule: ./echo.wasm\nrestart: 3\n' });
    const [issue] = issuesOf(() => validateFile(join(dir, 'b.actor.yaml')));
    expect(issue).toMatchObject({ line: 3, field: 'restart' });
  });
});

describe('examples', () => {
  it('every example system loads', () => {
    const systems = readdirSync(join(ROOT, 'examples')).map((name) =>
      join(ROOT, 'examples', name, `${name}.system.yaml`),
    );
    expect(systems.length).toBeGreaterThanOrEqual(2);
    for (const file of systems) expect(loadSystem(file).agents.length).toBeGreaterThan(0);
  });

  it('the ledger example nests supervisors under the root', () => {
    const spec = loadSystem(join(ROOT, 'examples/ledger/ledger.system.yaml'));
    expect(
      spec.supervisor.children.map((child) => ('agent' in child ? child.agent : child.supervisor.name)),
    ).toEqual(['producers', 'books', 'auditor']);
    expect(spec.agents.find((agent) => agent.name === 'acct-1')?.snapshotEvery).toBe(1);
  });
});

describe('published JSON Schemas', () => {
  it('match the schemas the loader uses', () => {
    const read = (name: string) => JSON.parse(readFileSync(join(ROOT, 'schema', name), 'utf8'));
    expect(read('system.schema.json')).toEqual(JSON.parse(JSON.stringify(systemSchema)));
    expect(read('actor.schema.json')).toEqual(JSON.parse(JSON.stringify(actorSchema)));
  });
});

describe('models', () => {
  const withModels = (models: string, capabilities = '{ models: [mlp] }') =>
    `name: demo\n${models}agents:\n  - name: a\n    module: echo.wasm\n    capabilities: ${capabilities}\n`;

  it('fills in every default of a model and grants it to the agents that list it', () => {
    const dir = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels('models:\n  - name: mlp\n    path: mlp.onnx\n'),
    });
    const spec = loadSystem(join(dir, 'demo.system.yaml'));
    expect(spec.models).toEqual([
      {
        name: 'mlp',
        type: 'onnx',
        path: join(dir, 'mlp.onnx'),
        providers: ['cpu'],
        intraOpThreads: 1,
        interOpThreads: 1,
        batching: { enabled: false, maxBatch: 8, maxQueueDelayMs: 2 },
        warmup: false,
        maxRequestBytes: 64 * 1024 * 1024,
      },
    ]);
    expect(spec.agents[0]?.models).toEqual(new Set(['mlp']));
    expect(spec.scheduler.inference).toBe('live');
  });

  it('names the line of a capability for a model the system does not declare', () => {
    const dir = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        'models:\n  - name: mlp\n    path: mlp.onnx\n',
        '{ models: [mlp, llm] }',
      ),
    });
    const [issue, ...rest] = issuesOf(() => loadSystem(join(dir, 'demo.system.yaml')));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ line: 8, field: 'agents[0].capabilities.models[1]' });
    expect(issue?.message).toBe('model "llm" is not declared in the system file\'s models (declared: mlp)');
  });

  it('takes a language model as a folder, and refuses a file where a folder belongs', () => {
    const dir = project({
      'llm/config.json': '{}',
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        'models:\n  - { name: mlp, type: llm, path: llm }\n  - { name: bad, type: llm, path: mlp.onnx }\n',
      ),
    });
    const issues = issuesOf(() => loadSystem(join(dir, 'demo.system.yaml')));
    expect(issues.map((issue) => [issue.field, issue.message])).toEqual([
      ['models[1].path', expect.stringMatching(/^folder "mlp.onnx" not found/)],
    ]);
  });

  it("keeps a language model's prefix cache on by default, off with false, bounded as asked; not for onnx", () => {
    const dir = project({
      'llm/config.json': '{}',
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        [
          'models:',
          '  - { name: mlp, type: llm, path: llm }',
          '  - { name: off, type: llm, path: llm, prefixCache: false }',
          '  - { name: small, type: llm, path: llm, prefixCache: { maxBytes: 1048576, blockTokens: 32 } }',
          '',
        ].join('\n'),
      ),
    });
    const models = loadSystem(join(dir, 'demo.system.yaml')).models;
    expect(models.map((model) => model.prefixCache)).toEqual([
      { enabled: true, maxBytes: 256 * 1024 * 1024, blockTokens: 16 },
      { enabled: false, maxBytes: 256 * 1024 * 1024, blockTokens: 16 },
      { enabled: true, maxBytes: 1048576, blockTokens: 32 },
    ]);
    const onnx = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels('models:\n  - { name: mlp, path: mlp.onnx, prefixCache: true }\n'),
    });
    expect(
      issuesOf(() => loadSystem(join(onnx, 'demo.system.yaml'))).map((issue) => [issue.field, issue.message]),
    ).toEqual([['models[0].prefixCache', '"prefixCache" is for language models (type llm)']]);
  });

  it('refuses a missing model file, a duplicate model name and a bad batching setting', () => {
    const dir = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        'models:\n  - name: mlp\n    path: gone.onnx\n  - name: mlp\n    path: mlp.onnx\n    batching: { maxBatch: 0 }\n',
      ),
    });
    const issues = issuesOf(() => loadSystem(join(dir, 'demo.system.yaml')));
    expect(issues.map((issue) => issue.field)).toEqual(['models[1].batching.maxBatch']);
    const dir2 = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        'models:\n  - name: mlp\n    path: gone.onnx\n  - name: mlp\n    path: mlp.onnx\n',
      ),
    });
    const issues2 = issuesOf(() => loadSystem(join(dir2, 'demo.system.yaml')));
    expect(issues2.map((issue) => [issue.field, issue.message])).toEqual([
      ['models[0].path', expect.stringMatching(/file "gone.onnx" not found/)],
      ['models[1].name', 'duplicate model name "mlp"'],
    ]);
  });

  it('takes a model behind an OpenAI-compatible server by url and model, and nothing of a local one', () => {
    const dir = project({
      'demo.system.yaml': withModels(
        'models:\n  - { name: mlp, type: openai, url: "http://127.0.0.1:11434/v1/", model: llama3.2, apiKeyEnv: OPENAI_API_KEY }\n',
      ),
    });
    const [model] = loadSystem(join(dir, 'demo.system.yaml')).models;
    expect(model).toMatchObject({
      name: 'mlp',
      type: 'openai',
      path: '',
      remote: {
        url: 'http://127.0.0.1:11434/v1',
        model: 'llama3.2',
        apiKeyEnv: 'OPENAI_API_KEY',
        timeoutMs: 120_000,
      },
    });
    const bad = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        [
          'models:',
          '  - { name: mlp, type: openai, model: x }',
          '  - { name: b, type: openai, url: "ftp://host", model: x }',
          '  - { name: e, type: openai, url: "http://h/v1", model: x, apiKeyEnv: "1-key" }',
          '',
        ].join('\n'),
      ),
    });
    const issues = issuesOf(() => loadSystem(join(bad, 'demo.system.yaml')));
    expect(issues.map((issue) => [issue.field, issue.message])).toEqual([
      ['models[0]', 'missing required field "url"'],
      ['models[1].url', 'must be an http:// or https:// URL (got "ftp://host")'],
      [
        'models[2].apiKeyEnv',
        'must be the name of an environment variable (letters, digits and "_", not starting with a digit) (got "1-key")',
      ],
    ]);
    const mixed = project({
      'mlp.onnx': 'bytes',
      'demo.system.yaml': withModels(
        [
          'models:',
          '  - { name: mlp, type: openai, url: "http://h/v1", model: x, path: mlp.onnx }',
          '  - { name: d, path: mlp.onnx, url: "http://h/v1" }',
          '',
        ].join('\n'),
      ),
    });
    expect(
      issuesOf(() => loadSystem(join(mixed, 'demo.system.yaml'))).map((issue) => [
        issue.field,
        issue.message,
      ]),
    ).toEqual([
      ['models[0].path', 'a model of type openai is served elsewhere: "path" has no meaning for it'],
      ['models[1].url', '"url" is for models of type openai (this one is onnx)'],
    ]);
  });
});
