// TypeScript agents in whole systems: the hello example in TypeScript behaves as the
// AssemblyScript one, gives one trace in every isolation mode, on every run and under CPU load,
// replays from its journal, and a hostile agent stays contained while the others finish.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Isolation, loadSystem, type SystemSpec } from '../src/supervisor/index.js';
import { killAllCli, troupe } from './helpers/cli.js';
import { agentModule, FIXTURES, ROOT } from './helpers/paths.js';
import { killAllHosts, logsOf, removeTempDirs, startRun, tempDir, writeSystem } from './helpers/system.js';

const burners: ChildProcess[] = [];

afterEach(() => {
  for (const burner of burners.splice(0)) burner.kill('SIGKILL');
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

const HELLO_TS = join(ROOT, 'examples', 'hello-ts', 'hello-ts.system.yaml');
const MODES: Isolation[] = ['process', 'thread', 'shared'];
const isolated = (spec: SystemSpec, pick: (index: number) => Isolation): SystemSpec => ({
  ...spec,
  agents: spec.agents.map((agent, index) => ({ ...agent, isolation: pick(index) })),
});

describe('the hello example in TypeScript', () => {
  it('crashes, restarts and dead-letters as the AssemblyScript one does', async () => {
    const run = startRun(loadSystem(HELLO_TS));
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(summary.agents.picky).toMatchObject({ restarts: 3 });
    expect(summary.agents.picky?.lastCrash).toBe(
      'uncaught Error: picky: refusing to handle 13 handling pong#13 (hop) (in hop)',
    );
    expect(run.events.filter((event) => event.type === 'message.dead')).toHaveLength(1);
    // The AssemblyScript hello prints the same total (the counter answers before the last hops arrive).
    expect(logsOf(run.events, 'ping')).toContain('relay: counter counted 78');
  }, 60_000);

  it('gives one trace in every isolation mode, a mix of them, twice, and under CPU load', async () => {
    const spec = loadSystem(HELLO_TS);
    const traces: string[] = [];
    for (const mode of MODES) traces.push((await startRun(isolated(spec, () => mode)).done).trace);
    traces.push((await startRun(isolated(spec, (index) => MODES[index % 3] as Isolation)).done).trace);
    for (let i = 0; i < 2; i++) {
      burners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    }
    traces.push((await startRun(isolated(spec, () => 'shared')).done).trace);
    traces.push((await startRun(spec).done).trace);
    expect(new Set(traces).size).toBe(1);
  }, 180_000);

  it('replays from its journal to the same trace, state hashes checked', async () => {
    const journal = join(tempDir(), 'hello-ts.journal');
    const run = troupe(['run', HELLO_TS, '--until-idle', '--isolation', 'shared', '--journal', journal]);
    const ran = await run.exit;
    expect(ran.code, ran.stderr).toBe(0);
    const trace = ran.stdout.match(/trace ([0-9a-f]{64})/)?.[1];
    const replay = await troupe(['replay', journal]).exit;
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`replay ok: 22 ticks, trace ${trace}`);
  }, 60_000);
});

describe('TypeScript agents in a system', () => {
  it('send returns the id the receiver sees', async () => {
    const run = startRun(
      writeSystem({
        agents: [
          { name: 'asker', module: join(FIXTURES, 'js', 'ids.ts') },
          { name: 'echo', module: agentModule('echo') },
        ],
      }),
    );
    // One id from init (Load.next_seq), two from one handler (Deliver.next_seq), after the hop's.
    run.runtime.inject('asker', 'ask', new Uint8Array(0));
    await run.done;
    const answers = logsOf(run.events, 'asker').filter((line) => line.startsWith('answer'));
    expect(answers).toEqual([
      'answer to asker#1: matches a sent id',
      'answer to asker#2: matches a sent id',
      'answer to asker#3: matches a sent id',
    ]);
  }, 60_000);

  it('a hostile agent on a shared thread is stopped by fuel, retried, dead-lettered; the others finish', async () => {
    const spec = writeSystem({
      isolation: 'shared',
      limits: { fuel: 5_000_000 },
      agents: [
        { name: 'hostile', module: join(FIXTURES, 'js', 'hostile.ts') },
        {
          name: 'ping',
          module: join(ROOT, 'examples', 'hello-ts', 'agents', 'relay.ts'),
          init: '{"peer":"pong","start":true,"limit":40}',
        },
        {
          name: 'pong',
          module: join(ROOT, 'examples', 'hello-ts', 'agents', 'relay.ts'),
          init: '{"peer":"ping","limit":40}',
        },
      ],
    });
    const run = startRun(spec);
    run.runtime.inject('hostile', 'loop', new Uint8Array(0));
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(summary.agents.hostile?.lastCrash).toBe(
      'fuel exhausted: the call used more than its budget of 5000000 (limits.fuel)',
    );
    const dead = run.events.filter((event) => event.type === 'message.dead');
    expect(dead).toHaveLength(1);
    expect([...logsOf(run.events, 'ping'), ...logsOf(run.events, 'pong')]).toContain(
      'relay: reached hop 40, the last one',
    );
  }, 60_000);

  it('stops work inside the engine by fuel, with one trace in every isolation mode and beside two CPU hogs', async () => {
    // Each kind is work QuickJS does in C (issue 25); before the engine was metered only the
    // wall-clock watchdog ended it, and on a shared thread it took the thread's other agents along.
    const works = ['jobs', 'await', 'regex', 'sort', 'repeat', 'fill', 'bigint'];
    const relay = join(ROOT, 'examples', 'hello-ts', 'agents', 'relay.ts');
    const run = async (isolation: Isolation) => {
      const spec = writeSystem({
        isolation,
        limits: { fuel: 20_000_000, memoryPages: 4096 },
        retryLimit: 1,
        maxRestarts: 100,
        agents: [
          { name: 'worker', module: join(FIXTURES, 'js', 'engine-work.ts') },
          {
            name: 'boss',
            module: join(FIXTURES, 'js', 'sender.ts'),
            init: JSON.stringify({ to: 'worker', kinds: works }),
            sendTo: ['worker'],
          },
          { name: 'ping', module: relay, init: '{"peer":"pong","start":true,"limit":40}' },
          { name: 'pong', module: relay, init: '{"peer":"ping","limit":40}' },
        ],
      });
      const started = startRun(spec);
      const summary = await started.done;
      expect(summary.ok).toBe(true);
      const dead = started.events.flatMap((event) =>
        event.type === 'message.dead' ? [`${event.kind}: ${event.reason}`] : [],
      );
      expect(dead.sort()).toEqual(
        [...works]
          .sort()
          .map(
            (work) =>
              `${work}: crashed "worker" 2 times: fuel exhausted: the call used more than its budget of 20000000 (limits.fuel)`,
          ),
      );
      // Only the worker crashed, twice for each message (once retried).
      expect(summary.agents.worker?.restarts).toBe(2 * works.length);
      for (const other of ['boss', 'ping', 'pong']) expect(summary.agents[other]?.restarts).toBe(0);
      return summary.trace;
    };
    const traces = [];
    for (const mode of MODES) traces.push(await run(mode));
    for (let i = 0; i < 2; i++) {
      burners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    }
    traces.push(await run('shared'));
    traces.push(await run('process'));
    expect(new Set(traces).size).toBe(1);
  }, 300_000);

  it('gives one trace from two folders, stacks included, and no stack names the folder', async () => {
    const agent = `import { defineAgent } from 'troupe/agent';
function where(): string { return new Error('here').stack ?? ''; }
export default defineAgent({
  init(ctx) { ctx.send(ctx.self, 'stack', where()); },
  on: { stack(message, ctx) { ctx.log(\`stack: \${message.text()}\`); } },
});
`;
    const runIn = async () => {
      const root = tempDir();
      mkdirSync(join(root, 'agents'));
      writeFileSync(join(root, 'agents', 'teller.ts'), agent);
      const file = join(root, 'stack.system.yaml');
      writeFileSync(
        file,
        'name: stack\nagents:\n  - name: teller\n    module: agents/teller.ts\n    capabilities: { sendTo: [teller] }\n',
      );
      const run = startRun(loadSystem(file, { root }));
      const summary = await run.done;
      const stack = logsOf(run.events, 'teller').find((line) => line.startsWith('stack:')) ?? '';
      expect(stack).toContain('agents/teller.ts');
      expect(stack).not.toContain(root);
      return summary.trace;
    };
    expect(await runIn()).toBe(await runIn());
  }, 60_000);

  it('names the file and line of an agent that does not compile, and a memory limit too small', async () => {
    const broken = startRun(
      writeSystem({ agents: [{ name: 'broken', module: join(FIXTURES, 'js', 'broken.ts') }] }),
    );
    const summary = await broken.done;
    expect(summary.ok).toBe(false);
    expect(JSON.stringify(broken.events)).toMatch(/broken\.ts:3:\d+: /);
    const small = startRun(
      writeSystem({
        limits: { memoryPages: 100 },
        agents: [{ name: 'small', module: join(FIXTURES, 'js', 'stateful.ts') }],
      }),
    );
    await small.done;
    expect(JSON.stringify(small.events)).toMatch(/needs limits\.memoryPages of at least 352 .*; it has 100/);
  }, 60_000);
});
