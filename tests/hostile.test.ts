// The hostile-module suite: agents that misbehave in every way are contained, each with a reason
// that names the cause, while healthy agents in the same system finish their work.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentSandbox, compileAgentModule } from '../src/actors/index.js';
import type { RuntimeEvent } from '../src/supervisor/index.js';
import { loadMeter } from '../src/supervisor/modules/index.js';
import { agentModule, FIXTURES } from './helpers/paths.js';
import { killAllHosts, logsOf, removeTempDirs, startRun, tempDir, writeSystem } from './helpers/system.js';
import { assembleWat, watFixture } from './helpers/wat.js';

const meterModule = await loadMeter();

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

const HOSTILE: Record<string, RegExp> = {
  'infinite-loop': /^fuel exhausted: the call used more than its budget of 200000 \(limits\.fuel\)$/,
  'memory-bomb': /^trap: unreachable; memory is at its limit of 32 pages \(limits\.memoryPages\)$/,
  'deep-recursion': /^trap: stack overflow$/,
  'huge-output': /^limit: sent 2000000 bytes to "sink", above limits\.maxMessageBytes 1048576$/,
  'send-flood': /^limit: sent more than limits\.maxSendsPerMessage 100 messages for one message$/,
};

function crashes(events: readonly RuntimeEvent[], agent: string): string[] {
  return events.flatMap((event) =>
    event.type === 'agent.crashed' && event.agent === agent ? [event.reason] : [],
  );
}

describe.each(['process', 'thread', 'shared'] as const)(
  'hostile modules in a running system (%s isolation)',
  (isolation) => {
    it('are each contained with a reason naming the cause; the healthy agents finish', async () => {
      const dir = tempDir();
      const malformed = join(dir, 'malformed.wasm');
      copyFileSync(join(FIXTURES, 'malformed.wasm'), malformed);
      const relay = agentModule('relay');
      const spec = writeSystem({
        isolation,
        retryLimit: 0,
        maxRestarts: 50,
        agents: [
          ...Object.keys(HOSTILE).map((name) => ({ name, module: watFixture(name, dir) })),
          { name: 'forbidden', module: watFixture('forbidden-import', dir) },
          { name: 'malformed', module: malformed },
          { name: 'ping', module: relay, init: 'peer=pong;start=1;limit=40;observer=sink;counter=sink' },
          { name: 'pong', module: relay, init: 'peer=ping;limit=40;observer=sink;counter=sink' },
          { name: 'sink', module: agentModule('sink') },
        ],
        limits: { fuel: 200_000, memoryPages: 32, maxSendsPerMessage: 100 },
      });
      const run = startRun(spec);
      for (const name of Object.keys(HOSTILE)) run.runtime.inject(name, 'go', new Uint8Array());
      const summary = await run.done;
      for (const [name, reason] of Object.entries(HOSTILE)) {
        expect(crashes(run.events, name), name).toEqual([expect.stringMatching(reason)]);
        expect(run.events).toContainEqual(
          expect.objectContaining({
            type: 'message.dead',
            agent: name,
            reason: expect.stringMatching(/^crashed/),
          }),
        );
      }
      expect(summary.agents.forbidden?.lastCrash).toContain('imports "env.fetch"');
      expect(summary.agents.malformed?.lastCrash).toContain('not a valid WebAssembly module');
      // The healthy relay finished, and the sink saw every hop exactly once.
      const said = [...logsOf(run.events, 'ping'), ...logsOf(run.events, 'pong')];
      expect(said).toContain('relay: sink counted 40');
      expect(summary.agents.ping?.restarts).toBe(0);
    });

    it('a host that stops answering is killed by the watchdog', async () => {
      const dir = tempDir();
      const spec = writeSystem({
        isolation,
        maxRestarts: 0,
        agents: [{ name: 'spinner', module: watFixture('infinite-loop', dir) }],
        limits: { fuel: 2_000_000_000, watchdogMs: 300 },
      });
      const run = startRun(spec);
      run.runtime.inject('spinner', 'go', new Uint8Array());
      const summary = await run.done;
      expect(crashes(run.events, 'spinner')).toEqual([
        'watchdog: no answer to the batch of tick 1 within 300 ms (limits.watchdogMs)',
      ]);
      expect(summary.ok).toBe(false);
    });
  },
);

describe('a message that stalls its host', () => {
  it('counts each watchdog kill toward its retry limit and is then dead-lettered with the reason', async () => {
    const dir = tempDir();
    const spec = writeSystem({
      retryLimit: 1,
      maxRestarts: 10,
      agents: [{ name: 'staller', module: watFixture('stall-on-s', dir) }],
      limits: { fuel: 2_000_000_000, watchdogMs: 300 },
    });
    const run = startRun(spec);
    for (const kind of ['a', 'stall', 'b']) run.runtime.inject('staller', kind, new Uint8Array());
    const summary = await run.done;
    const dead = run.events.filter((event) => event.type === 'message.dead');
    expect(dead).toEqual([
      expect.objectContaining({
        id: '@external#2',
        kind: 'stall',
        reason: expect.stringMatching(
          /^crashed "staller" 2 times: watchdog: no answer to the batch of tick \d+/,
        ),
      }),
    ]);
    // The other two were handled; the logs of the ticks that stalled died with their hosts.
    expect(logsOf(run.events, 'staller').sort()).toEqual(['a', 'b']);
    // Stalls: [a, stall, b], then a alone (done), [stall, b], then stall alone twice.
    expect(summary).toMatchObject({ ok: true, agents: { staller: { restarts: 4 } } });
  }, 60_000);
});

describe('deterministic fuel', () => {
  const runLoop = (fuel: number) => {
    const metered = meterModule(
      assembleWat(readFileSync(join(FIXTURES, 'wat', 'infinite-loop.wat'), 'utf8')),
      'loop',
      {
        maxMemoryPages: 16,
      },
    );
    if (!metered.ok) throw new Error(metered.reason);
    const check = compileAgentModule(metered.bytes, 'loop');
    if (!check.ok) throw new Error(check.reason);
    const sandbox = AgentSandbox.instantiate(check.module, 1, {
      fuel,
      maxMessageBytes: 1024,
      maxSendsPerMessage: 10,
      memoryPages: 16,
    });
    sandbox.init(new Uint8Array(), 0);
    return sandbox.handle([{ from: 'x', to: 'loop', kind: 'go', seq: 1 }], 1);
  };

  it('stops a runaway loop at the same point on every run', () => {
    const first = runLoop(50_000);
    const second = runLoop(50_000);
    expect(first.ok).toBe(false);
    expect(first.logs.length).toBeGreaterThan(10);
    expect(second.logs.length).toBe(first.logs.length);
    expect(runLoop(100_000).logs.length).toBeGreaterThan(first.logs.length);
  });

  it('refuses a module that starts with more memory than its limit, naming both', () => {
    const result = meterModule(assembleWat('(module (memory (export "memory") 40))'), 'module big.wasm', {
      maxMemoryPages: 32,
    });
    expect(result).toEqual({
      ok: false,
      reason: 'module big.wasm starts with 40 pages of memory, above limits.memoryPages 32',
    });
  });
});
