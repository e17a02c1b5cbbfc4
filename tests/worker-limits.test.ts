// A worker thread's heap limit (resourceLimits) stops that worker only: the supervisor's process
// lives on, the agents the worker held restart (each retried or restored per its policy), and the
// agents on other workers never notice.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedPoolLauncher, ThreadLauncher } from '../src/launch/index.js';
import { decodeJournal } from '../src/protocol/index.js';
import { JournalWriter, journalHeader, ReplaySource } from '../src/supervisor/index.js';
import { agentModule, HEAP_HOG_HOST } from './helpers/paths.js';
import { killAllHosts, removeTempDirs, startRun, tempDir, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

const AGENTS = ['a0', 'a1', 'a2', 'a3'];

describe.each([
  // One worker per agent: only a0's.
  { isolation: 'thread' as const, bystanders: [] },
  // Two pool threads, agents placed in turn: a0 and a2 share one.
  { isolation: 'shared' as const, bystanders: ['a2'] },
])('a worker past its heap limit ($isolation isolation)', ({ isolation, bystanders }) => {
  it('ends that worker alone; its culprit crashes, the others it held start again uncharged', {
    timeout: 120_000,
  }, async () => {
    const spec = writeSystem({
      isolation,
      retryLimit: 0,
      // The heap fills in well under a second at 64 MiB; no watchdog may fire first on a busy machine.
      limits: { watchdogMs: 120_000 },
      agents: AGENTS.map((name) => ({ name, module: agentModule('sink') })),
    });
    const heap = { heapMb: 64 };
    const file = join(tempDir(), 'heap.journal');
    const journal = new JournalWriter(file, 'tick');
    journal.write(journalHeader(spec, 'test'));
    const hosts = () => ({
      hostEntry: HEAP_HOG_HOST,
      threadLauncher: new ThreadLauncher(heap),
      sharedLauncher: new SharedPoolLauncher(2, heap),
    });
    const run = startRun(spec, { ...hosts(), journal });
    run.runtime.inject('a0', 'hog', new Uint8Array());
    for (const name of AGENTS) run.runtime.inject(name, 'work', new Uint8Array(1));
    const summary = await run.done;
    expect(summary.ok, summary.reason).toBe(true);
    const crashed = run.events.flatMap((event) => (event.type === 'agent.crashed' ? [event] : []));
    // a0 crashes twice: its batch of two is narrowed to one envelope, which is then charged.
    expect([...new Set(crashed.map((event) => event.agent))]).toEqual(['a0']);
    for (const event of crashed) expect(event.reason).toMatch(/out of memory|ERR_WORKER_OUT_OF_MEMORY/i);
    // An agent that shared a0's pool thread is not to blame (issue 25): it starts again, its batch
    // retried whole, and its supervisor counts no restart.
    const warnings = run.events.flatMap((event) => (event.type === 'system.warning' ? [event.text] : []));
    for (const name of bystanders) {
      expect(warnings.some((text) => text.startsWith(`"${name}" starts again, charged nothing: `))).toBe(
        true,
      );
      expect(summary.agents[name]?.restarts).toBe(0);
    }
    // The message that blew the heap is dead-lettered with the reason; the rest were delivered.
    expect(run.events).toContainEqual(
      expect.objectContaining({
        type: 'message.dead',
        agent: 'a0',
        kind: 'hog',
        reason: expect.stringMatching(/^crashed "a0"/),
      }),
    );
    for (const name of AGENTS) expect(summary.agents[name]?.delivered, name).toBeGreaterThanOrEqual(1);
    // The journal replays to the same run: the culprit's death charged, a bystander's not.
    const replay = new ReplaySource(decodeJournal(readFileSync(file)).records);
    const replayed = await startRun(spec, { ...hosts(), replay }).done;
    expect(replayed.divergence).toBeUndefined();
    expect(replayed.trace).toBe(summary.trace);
  });
});
