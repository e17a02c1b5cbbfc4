// The JavaScript sandbox on its own: QuickJS in WebAssembly running a bundled TypeScript agent,
// with the limits, determinism and snapshots a WebAssembly agent has.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stop } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_INITIAL_PAGES } from '../src/actors/engine-file.js';
import { JsSandbox, NO_LIMITS, type RunResult, type SandboxLimits } from '../src/actors/index.js';
import { sha256 } from '../src/actors/snapshot.js';
import type { Envelope } from '../src/protocol/index.js';
import { bundleAgent } from '../src/supervisor/js-bundler.js';
import { ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'js');
const LIMITS: SandboxLimits = { ...NO_LIMITS, fuel: 20_000_000, memoryPages: 512, maxSendsPerMessage: 10 };

async function sandbox(file: string, limits = LIMITS, agent = 'subject'): Promise<JsSandbox> {
  const bundle = await bundleAgent(join(FIXTURES, file), ROOT);
  if (!bundle.ok) throw new Error(bundle.reason);
  const instance = await JsSandbox.create({ code: bundle.code, file }, agent, 7, limits);
  expect(instance.start(0).ok).toBe(true);
  return instance;
}

afterEach(() => removeTempDirs());

let seq = 0;
function envelope(kind: string, payload: unknown = null, from = 'tester'): Envelope {
  seq++;
  const bytes = payload === null ? new Uint8Array(0) : Buffer.from(JSON.stringify(payload));
  return { from, to: 'subject', kind, payload: bytes, correlationId: '', tick: 1, seq };
}

const texts = (result: RunResult) => result.logs.map((log) => log.text);
const reportOf = (result: RunResult) => {
  if (!result.ok) throw new Error(result.reason);
  return JSON.parse(Buffer.from(result.outputs[0]?.payload ?? []).toString('utf8'));
};

describe('a JavaScript agent in its sandbox', () => {
  it('runs the same on every run: state, seeded Math.random, logical Date, and the state hash', async () => {
    const run = async () => {
      const agent = await sandbox('stateful.ts');
      expect(agent.init(new Uint8Array(0), 0).ok).toBe(true);
      agent.handle([envelope('add', 5), envelope('add', 7, 'other')], 3);
      const report = reportOf(agent.handle([envelope('report')], 4));
      return { report, hash: Buffer.from(agent.stateHash()).toString('hex') };
    };
    seq = 0;
    const first = await run();
    seq = 0;
    const second = await run();
    expect(first).toEqual(second);
    expect(first.report).toMatchObject({ total: 12, calls: 2, now: 4000, tick: 4 });
    expect(first.report.date).toBe('1970-01-01T00:00:04.000Z');
    expect(first.report.random).toBeGreaterThanOrEqual(0);
    expect(first.report.random).toBeLessThan(1);
  }, 30_000);

  it('restores from a snapshot into a fresh instance: the same state, the same answers', async () => {
    seq = 0;
    const original = await sandbox('stateful.ts');
    original.init(new Uint8Array(0), 0);
    original.handle([envelope('add', 2), envelope('add', 3, 'other')], 1);
    const hash = sha256(Buffer.from('module'));
    const snapshot = original.snapshot(hash);
    const restored = await sandbox('stateful.ts');
    expect(restored.restore(snapshot, hash)).toEqual({ ok: true });
    expect(Buffer.from(restored.stateHash())).toEqual(Buffer.from(original.stateHash()));
    const ask = envelope('report');
    const fromOriginal = reportOf(original.handle([ask], 2));
    const fromRestored = reportOf(restored.handle([ask], 2));
    expect(fromRestored).toEqual(fromOriginal);
    expect(fromRestored).toMatchObject({
      total: 5,
      calls: 2,
      seen: [
        ['tester', 1],
        ['other', 1],
      ],
    });
    expect(Buffer.from(restored.stateHash())).toEqual(Buffer.from(original.stateHash()));
    expect(restored.restore(snapshot, sha256(Buffer.from('another module')))).toEqual({
      ok: false,
      reason: 'snapshot of another module',
    });
  }, 30_000);

  const hostile: Array<[string, RegExp]> = [
    ['loop', /^fuel exhausted: the call used more than its budget of 20000000 \(limits\.fuel\)$/],
    [
      'array',
      /^out of memory handling tester#\d+ \(array\): the JavaScript heap is at its limit \(limits\.memoryPages 1024\)$/,
    ],
    // One array grown element by element until the heap is full (issue 25): the same named reason.
    [
      'push',
      /^out of memory handling tester#\d+ \(push\): the JavaScript heap is at its limit \(limits\.memoryPages 1024\)$/,
    ],
    ['thrownNull', /^uncaught exception handling tester#\d+ \(thrownNull\): null$/],
    ['recurse', /^uncaught InternalError: stack overflow handling .* \(in deeper\)$/],
    ['eval', /^uncaught EvalError: eval is not available in a Troupe agent/],
    ['function', /^uncaught EvalError: the Function constructor is not available in a Troupe agent/],
    ['constructor', /^uncaught EvalError: the Function constructor is not available in a Troupe agent/],
    ['process', /^uncaught ReferenceError: 'process' is not defined/],
    // The bundler replaces require with a function that refuses.
    ['require', /^uncaught Error: Dynamic require of "fs" is not supported/],
    ['fetch', /^uncaught ReferenceError: 'fetch' is not defined/],
    ['timer', /^uncaught ReferenceError: 'setTimeout' is not defined/],
    ['freeze', /^uncaught TypeError: '__troupe_host' is read-only/],
    ['reset', /^fuel exhausted: the call used more than its budget of 20000000 \(limits\.fuel\)$/],
    ['flood', /^limit: sent more than limits\.maxSendsPerMessage 10 messages for one message$/],
  ];

  for (const [attack, reason] of hostile) {
    it(`contains "${attack}" with a named reason, the same on every run`, async () => {
      const outcome = async () => {
        seq = 0;
        // Filling memory takes more work than a loop-stopping budget: give those room to fill it.
        const fills = attack === 'array' || attack === 'push';
        const agent = await sandbox(
          'hostile.ts',
          fills ? { ...LIMITS, fuel: 2_000_000_000, memoryPages: 1024 } : LIMITS,
        );
        agent.init(new Uint8Array(0), 0);
        // The reset attack needs room to move its index in: a batch of three.
        const batch =
          attack === 'reset' ? [envelope(attack), envelope('loop'), envelope('loop')] : [envelope(attack)];
        const result = agent.handle(batch, 1);
        return result.ok
          ? { ok: true, logs: texts(result) }
          : { ok: false, reason: result.reason, logs: texts(result) };
      };
      const first = await outcome();
      expect(await outcome()).toEqual(first);
      expect(first.ok).toBe(false);
      expect(first.reason).toMatch(reason);
      if (attack === 'loop') {
        // The trap point is the same on every run: the last progress line says exactly where.
        expect(first.logs.at(-1)).toMatch(/^still looping at \d+00000$/);
      }
    }, 60_000);
  }

  // Work the engine does in C, never calling a JavaScript function or closing a JavaScript loop
  // (issue 25): charged by the meter compiled into the engine itself, so it stops by fuel at one
  // point (the instance's whole memory the same) on every run, never by the wall-clock watchdog.
  const engineWork = ['jobs', 'await', 'regex', 'sort', 'repeat', 'fill', 'bigint'];
  for (const work of engineWork) {
    it(`charges fuel for "${work}" inside the engine and stops it at the same point on every run`, async () => {
      const limits = { ...LIMITS, fuel: 100_000_000, memoryPages: 4096 };
      const outcome = async () => {
        seq = 0;
        const agent = await sandbox('engine-work.ts', limits);
        agent.init(new Uint8Array(0), 0);
        const result = agent.handle([envelope(work)], 1);
        return {
          reason: result.ok ? 'handled' : result.reason,
          memory: Buffer.from(agent.stateHash()).toString('hex'),
        };
      };
      const first = await outcome();
      expect(first.reason).toBe(
        'fuel exhausted: the call used more than its budget of 100000000 (limits.fuel)',
      );
      expect(await outcome()).toEqual(first);
    }, 60_000);
  }

  it('gives each message of a batch its own budget, and reports the fuel a call used', async () => {
    seq = 0;
    const agent = await sandbox('engine-work.ts', { ...LIMITS, fuel: 100_000_000 });
    const init = agent.init(new Uint8Array(0), 0);
    expect(init.ok && init.usage.fuelUsed).toBeGreaterThan(0);
    // Each regex alone costs less than a budget; a batch of three gets three.
    const one = agent.handle([envelope('small-regex')], 1);
    const three = agent.handle(
      [envelope('small-regex'), envelope('small-regex'), envelope('small-regex')],
      2,
    );
    if (!one.ok || !three.ok) throw new Error('the small regex failed');
    expect(one.usage.fuelUsed).toBeGreaterThan(1_000_000);
    expect(three.usage.fuelUsed).toBeGreaterThan(2 * one.usage.fuelUsed);
    expect(three.usage.fuelUsed).toBeLessThan(3 * 100_000_000);
  }, 60_000);

  it('starts later instances of a bundle from a memory image: the same memory and answers as a real start', async () => {
    // Issue 25: the first instance on a thread runs the top-level code; the others get the pages
    // it changed. Different agents and seeds: the top-level code of stateful.ts uses neither.
    seq = 0;
    const first = await sandbox('stateful.ts', LIMITS, 'first');
    const second = await sandbox('stateful.ts', LIMITS, 'second');
    expect(Buffer.from(second.stateHash())).toEqual(Buffer.from(first.stateHash()));
    for (const agent of [first, second]) {
      expect(agent.init(new Uint8Array(0), 0).ok).toBe(true);
      agent.handle([envelope('add', 4)], 1);
    }
    const ask = envelope('report');
    const answers = [first, second].map((agent) => reportOf(agent.handle([ask], 2)));
    expect(answers[1]).toEqual(answers[0]);
  }, 30_000);

  it('keeps a small agent in the 1 MiB its engine starts with (hostile recursion: its stack holds)', async () => {
    // Issue 25: the build's 5 MiB stack put the heap at 82 pages, and V8 collected garbage for
    // every few agents started; the engine's stack is made smaller and its heap starts low.
    seq = 0;
    const agent = await sandbox('stateful.ts', LIMITS, 'small');
    expect(agent.init(new Uint8Array(0), 0).ok).toBe(true);
    const result = agent.handle([envelope('add', 4)], 1);
    expect(result.ok && result.usage.memoryPages).toBe(ENGINE_INITIAL_PAGES);
  }, 30_000);

  it('runs top-level code that draws random numbers or reads the clock in every instance', async () => {
    const bundle = await bundleAgent(join(FIXTURES, 'seeded-top.ts'), ROOT);
    if (!bundle.ok) throw new Error(bundle.reason);
    const report = async (seed: number, tick: number) => {
      const agent = await JsSandbox.create({ code: bundle.code, file: 'seeded-top.ts' }, 'a', seed, LIMITS);
      expect(agent.start(tick).ok).toBe(true);
      agent.init(new Uint8Array(0), tick);
      return reportOf(agent.handle([envelope('report')], tick + 1));
    };
    const one = await report(1, 0);
    const other = await report(2, 5);
    expect(other.drawn).not.toBe(one.drawn);
    expect(other.started).toBe(5000);
    expect(await report(1, 0)).toEqual(one);
  }, 30_000);

  it('refuses memory below what QuickJS needs, naming the limit', async () => {
    const bundle = await bundleAgent(join(FIXTURES, 'stateful.ts'), ROOT);
    if (!bundle.ok) throw new Error(bundle.reason);
    await expect(
      JsSandbox.create({ code: bundle.code, file: 'x' }, 'a', 1, { ...LIMITS, memoryPages: 64 }),
    ).rejects.toThrow(/needs limits\.memoryPages of at least 352 .* it has 64/);
  });

  it('names a module that defines no agent, and one whose top-level code throws', async () => {
    const none = await JsSandbox.create({ code: 'var x = 1;', file: 'empty.js' }, 'a', 1, LIMITS);
    const started = none.start(0);
    expect(started.ok).toBe(false);
    expect(!started.ok && started.reason).toMatch(/^empty\.js defines no agent: call defineAgent/);
    const throwing = await JsSandbox.create(
      { code: 'throw new TypeError("bad config")', file: 'bad.js' },
      'a',
      1,
      LIMITS,
    );
    const thrown = throwing.start(0);
    expect(!thrown.ok && thrown.reason).toBe('uncaught TypeError: bad config in its top-level code');
  });
});

describe('bundling an agent', () => {
  it('names the file, line and column of a syntax error', async () => {
    const result = await bundleAgent(join(FIXTURES, 'broken.ts'), ROOT);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/broken\.ts:3:\d+: /);
  });

  it("refuses Node's modules by name", async () => {
    const result = await bundleAgent(join(FIXTURES, 'imports-fs.ts'), ROOT);
    expect(!result.ok && result.reason).toMatch(
      /imports-fs\.ts:2:\d+: imports "node:fs": an agent runs in a sandbox and cannot use Node's modules/,
    );
  });

  describe('reads nothing outside the system root (issue 25)', () => {
    /** A project folder with the files given, beside a folder outside it holding a secret. */
    const project = (files: Record<string, string>) => {
      const base = tempDir();
      const root = join(base, 'project');
      const outside = join(base, 'outside');
      mkdirSync(root);
      mkdirSync(outside);
      writeFileSync(join(outside, 'secret.ts'), 'export const secret = "from outside";\n');
      writeFileSync(join(outside, 'secret.txt'), 'from outside\n');
      for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
      return { root, outside };
    };
    const agent = (imports: string) =>
      `import { defineAgent } from 'troupe/agent';\n${imports}\nexport default defineAgent({ init(ctx) { ctx.log(String(data)); }, on: {} });\n`;
    const refusals: Array<[string, (outside: string) => string, RegExp]> = [
      [
        'a relative import that climbs out',
        () => "import { secret as data } from '../outside/secret.ts';",
        /agent\.ts:2:\d+: imports "\.\.\/outside\/secret\.ts": it resolves to .*outside\/secret\.ts, outside the system's root/,
      ],
      [
        'an absolute path',
        (outside) => `import { secret as data } from '${join(outside, 'secret.ts')}';`,
        /agent\.ts:2:\d+: imports ".*secret\.ts": it resolves to .*, outside the system's root/,
      ],
      [
        'a text import attribute',
        () => "import data from '/proc/self/environ' with { type: 'text' };",
        /agent\.ts:2:\d+: imports "\/proc\/self\/environ": import attributes \(type: "text"\) are not allowed/,
      ],
      [
        'the default .txt loader, inside the root',
        () => "import data from './notes.txt';",
        /agent\.ts:2:\d+: imports "\.\/notes\.txt": an agent may import scripts and JSON only, not "\.txt" files/,
      ],
    ];
    for (const [what, imports, reason] of refusals) {
      it(`refuses ${what}, naming the file and line`, async () => {
        const { root, outside } = project({ 'notes.txt': 'inside\n' });
        writeFileSync(join(root, 'agent.ts'), agent(imports(outside)));
        const result = await bundleAgent(join(root, 'agent.ts'), root);
        expect(result.ok).toBe(false);
        expect(!result.ok && result.reason).toMatch(reason);
      });
    }

    it("gives esbuild's own process none of the supervisor's environment but what it needs", async () => {
      process.env.TROUPE_CANARY_SECRET = 'do not pass on';
      try {
        // A new esbuild process, started by the next build with the environment of that moment.
        await stop();
        const result = await bundleAgent(join(FIXTURES, 'stateful.ts'), ROOT);
        expect(result.ok).toBe(true);
        const children = readdirSync('/proc').filter((entry) => {
          if (!/^\d+$/.test(entry)) return false;
          try {
            const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
            const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            return (
              parent === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('esbuild')
            );
          } catch {
            return false;
          }
        });
        expect(children.length).toBeGreaterThan(0);
        for (const pid of children) {
          const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
          expect(environ.map((entry) => entry.split('=')[0]).sort()).toEqual(
            expect.not.arrayContaining(['TROUPE_CANARY_SECRET', 'HOME']),
          );
        }
      } finally {
        delete process.env.TROUPE_CANARY_SECRET;
      }
    });

    it('refuses a symbolic link to a folder outside, checked after the link is followed', async () => {
      const { root, outside } = project({});
      symlinkSync(outside, join(root, 'linked'));
      writeFileSync(join(root, 'agent.ts'), agent("import { secret as data } from './linked/secret.ts';"));
      const result = await bundleAgent(join(root, 'agent.ts'), root);
      expect(!result.ok && result.reason).toMatch(
        /agent\.ts:2:\d+: imports "\.\/linked\/secret\.ts": it resolves to .*outside\/secret\.ts, outside the system's root/,
      );
    });

    it('still imports JSON and scripts inside the root, with and without the JSON attribute', async () => {
      const { root } = project({
        'data.json': '{"greeting":"hello"}',
        'more.json': '{"who":"world"}',
        'helper.ts': 'export const mark = "!";\n',
      });
      writeFileSync(
        join(root, 'agent.ts'),
        agent(
          "import first from './data.json';\nimport second from './more.json' with { type: 'json' };\nimport { mark } from './helper.ts';\nconst data = first.greeting + ' ' + second.who + mark;",
        ),
      );
      const bundle = await bundleAgent(join(root, 'agent.ts'), root);
      if (!bundle.ok) throw new Error(bundle.reason);
      const instance = await JsSandbox.create({ code: bundle.code, file: 'agent.ts' }, 'a', 1, LIMITS);
      expect(instance.start(0).ok).toBe(true);
      const init = instance.init(new Uint8Array(0), 0);
      expect(init.ok && texts(init)).toEqual(['hello world!']);
    });
  });
});
