// The runtime core under a seeded simulation: random systems, host reports, exits, kills, timers,
// GPU answers and operator commands for at least 100,000 steps, invariants checked at every step
// (tests/helpers/core-sim.ts). A failure prints the seed: TROUPE_TEST_SEED=<seed> runs it again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoreSimulation } from './helpers/core-sim.js';
import { seededRandom, testSeed } from './helpers/seed.js';
import {
  type ActorDecl,
  removeTempDirs,
  type SupervisorDecl,
  tempDir,
  writeSystem,
} from './helpers/system.js';

const MODULE = join(import.meta.dirname, 'fixtures', 'malformed.wasm');
const STEPS = 100_000;

afterAll(removeTempDirs);

function randomSystem(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const restart = () => pick(['permanent', 'permanent', 'transient', 'temporary'] as const);
  const strategy = () => pick(['one_for_one', 'one_for_all', 'rest_for_one'] as const);
  const count = 2 + Math.floor(random() * 6);
  const actors: ActorDecl[] = Array.from({ length: count }, (_, i) => ({
    name: `a${i}`,
    module: MODULE,
    restart: restart(),
    models: ['m'],
  }));
  // Some agents under a nested supervisor, the rest under the root.
  const nested = Math.floor(random() * count);
  const agents: Array<ActorDecl | SupervisorDecl> =
    nested > 1
      ? [
          ...actors.slice(nested),
          { supervisor: 'inner', strategy: strategy(), maxRestarts: 3, agents: actors.slice(0, nested) },
        ]
      : actors;
  const dir = tempDir();
  writeFileSync(join(dir, 'm.onnx'), '');
  return writeSystem(
    {
      seed: Math.floor(random() * 1000),
      maxBatch: 1 + Math.floor(random() * 6),
      retryLimit: Math.floor(random() * 3),
      maxRestarts: 2 + Math.floor(random() * 10),
      periodMs: 1000,
      strategy: strategy(),
      ...(random() < 0.5 ? { backoff: { initialTicks: 1, maxTicks: 8, jitter: 0.5 } } : {}),
      limits: {
        mailbox: 2 + Math.floor(random() * 10),
        overflow: pick(['dead-letter', 'reject']),
        watchdogMs: 2000,
      },
      models: [{ name: 'm', path: join(dir, 'm.onnx') }],
      inference: pick(['live', 'strict'] as const),
      agents,
    },
    dir,
  );
}

describe('the runtime core under simulation', () => {
  it(`keeps its invariants for ${STEPS} random steps`, { timeout: 240_000 }, () => {
    const seed = testSeed('core simulation');
    const random = seededRandom(seed);
    let steps = 0;
    let runs = 0;
    const left = { applied: 0, dead: 0, rejected: 0, asked: 0, discarded: 0 };
    const ends = new Map<string, number>();
    const gpu = { deaths: 0, restarts: 0 };
    while (steps < STEPS) {
      runs++;
      const spec = randomSystem(random);
      const simulation = new CoreSimulation(spec, random);
      const budget = 2_000 + Math.floor(random() * 8_000);
      try {
        simulation.start();
        while (simulation.steps < budget && simulation.step()) {}
        if (!simulation.summary) simulation.finish(100_000);
      } catch (error) {
        const recent = simulation.events.slice(-15).map((event) => JSON.stringify(event));
        throw new Error(
          `seed ${seed}, run ${runs}: ${(error as Error).message}\nlast events:\n${recent.join('\n')}`,
        );
      }
      steps += simulation.steps;
      gpu.deaths += simulation.gpuDeaths;
      gpu.restarts += simulation.gpuRestarts;
      for (const key of Object.keys(left) as Array<keyof typeof left>)
        left[key] += simulation.tokensLeft[key];
      const end = (simulation.summary?.reason ?? '').split(':')[0] as string;
      ends.set(end, (ends.get(end) ?? 0) + 1);
    }
    process.stdout.write(
      `core simulation: ${runs} runs, ${steps} steps, messages ${JSON.stringify(left)}, GPU host ${JSON.stringify(gpu)}, ends ${JSON.stringify([...ends])}\n`,
    );
    expect(steps).toBeGreaterThanOrEqual(STEPS);
    // The simulation reached what it is for: work done, crashes, refusals and model answers.
    expect(left.applied).toBeGreaterThan(1000);
    expect(left.dead).toBeGreaterThan(10);
    expect(left.asked).toBeGreaterThan(10);
    // The GPU host is a child of the tree: its deaths are decided and restart it.
    expect(gpu.restarts).toBeGreaterThan(0);
  });

  it('is a function of its inputs: the same seed gives the same effects, byte for byte', {
    timeout: 60_000,
  }, () => {
    const seed = testSeed('core determinism');
    const digests: string[] = [];
    for (let run = 0; run < 2; run++) {
      const random = seededRandom(seed);
      const simulation = new CoreSimulation(randomSystem(random), random);
      simulation.start();
      while (simulation.steps < 5_000 && simulation.step()) {}
      if (!simulation.summary) simulation.finish(100_000);
      digests.push(simulation.effectDigest());
    }
    expect(digests[1]).toBe(digests[0]);
  });

  it('records as effects: a journaled core writes nothing itself, and says when a tick is done', {
    timeout: 60_000,
  }, () => {
    const seed = testSeed('core journal effects');
    const random = seededRandom(seed);
    // Random systems until some have run ticks (one may stop before its first: a refused start).
    let ticked = 0;
    for (let run = 1; run <= 20 && ticked <= 10; run++) {
      const simulation = new CoreSimulation(randomSystem(random), random, { journaled: true });
      simulation.start();
      while (simulation.steps < 3_000 && simulation.step()) {}
      if (!simulation.summary) simulation.finish(100_000);
      const { journal } = simulation;
      const where = `seed ${seed}, run ${run}`;
      const ticks = journal.flatMap((effect) =>
        effect.type === 'record' && effect.record.tick ? [effect.record.tick.tick ?? 0] : [],
      );
      ticked += ticks.length;
      // Tick records in order, and each tick's records closed by a tickDone before the next tick's.
      expect(ticks, where).toEqual([...ticks].sort((a, b) => a - b));
      let open = false;
      for (const effect of journal) {
        if (effect.type === 'record' && effect.record.tick) {
          expect(open, `${where}: tick ${effect.record.tick.tick} began before the last one was done`).toBe(
            false,
          );
          open = true;
        } else if (effect.type === 'tickDone') open = false;
      }
      // The journal is closed once, last.
      expect(
        journal.filter((effect) => effect.type === 'closeJournal'),
        where,
      ).toHaveLength(1);
      expect(journal.at(-1)?.type, where).toBe('closeJournal');
    }
    expect(ticked, `seed ${seed}`).toBeGreaterThan(10);
    // An unjournaled core gives none of these.
    const plain = seededRandom(seed);
    const unjournaled = new CoreSimulation(randomSystem(plain), plain);
    unjournaled.start();
    while (unjournaled.steps < 3_000 && unjournaled.step()) {}
    if (!unjournaled.summary) unjournaled.finish(100_000);
    expect(unjournaled.journal).toEqual([]);
  });
});
