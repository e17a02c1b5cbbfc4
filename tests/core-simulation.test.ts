// The runtime core under a seeded simulation: random systems, host reports, exits, kills, timers,
// GPU answers and operator commands for at least 100,000 steps, invariants checked at every step
// (tests/helpers/core-sim.ts); and recorded runs replayed against their recording. A failure
// prints the seed: TROUPE_TEST_SEED=<seed> runs it again (a simulation made with `log: true`
// keeps every event and every command sent to a host, to find where two runs part).
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../src/protocol/index.js';
import { MODEL_PREFIX, ReplaySource } from '../src/supervisor/index.js';
import { CoreSimulation } from './helpers/core-sim.js';
import { seededRandom, testSeed } from './helpers/seed.js';
import { randomSystem } from './helpers/sim-system.js';
import { removeTempDirs } from './helpers/system.js';

const STEPS = 100_000;

afterAll(removeTempDirs);

describe('the runtime core under simulation', () => {
  it(`keeps its invariants for ${STEPS} random steps`, { timeout: 240_000 }, () => {
    const seed = testSeed('core simulation');
    const random = seededRandom(seed);
    let steps = 0;
    let runs = 0;
    const left = { applied: 0, dead: 0, rejected: 0, asked: 0, discarded: 0 };
    const ends = new Map<string, number>();
    const gpu = { deaths: 0, restarts: 0 };
    let toolDeaths = 0;
    while (steps < STEPS) {
      runs++;
      const spec = randomSystem(random);
      const simulation = new CoreSimulation(spec, random);
      const budget = 2_000 + Math.floor(random() * 8_000);
      runToEnd(simulation, budget, `seed ${seed}, run ${runs}`);
      steps += simulation.steps;
      gpu.deaths += simulation.gpuDeaths;
      toolDeaths += simulation.toolDeaths;
      gpu.restarts += simulation.gpuRestarts;
      for (const key of Object.keys(left) as Array<keyof typeof left>)
        left[key] += simulation.tokensLeft[key];
      const end = (simulation.summary?.reason ?? '').split(':')[0] as string;
      ends.set(end, (ends.get(end) ?? 0) + 1);
    }
    process.stdout.write(
      `core simulation: ${runs} runs, ${steps} steps, messages ${JSON.stringify(left)}, GPU host ${JSON.stringify(gpu)}, tool host deaths ${toolDeaths}, ends ${JSON.stringify([...ends])}\n`,
    );
    expect(steps).toBeGreaterThanOrEqual(STEPS);
    // The simulation reached what it is for: work done, crashes, refusals and model answers.
    expect(left.applied).toBeGreaterThan(1000);
    expect(left.dead).toBeGreaterThan(10);
    expect(left.asked).toBeGreaterThan(10);
    // The GPU host is a child of the tree: its deaths are decided and restart it.
    expect(gpu.restarts).toBeGreaterThan(0);
    expect(toolDeaths).toBeGreaterThan(0);
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

  it('replays what it recorded: the same ticks and deliveries, with no divergence', {
    timeout: 240_000,
  }, () => {
    const seed = testSeed('core replay');
    const random = seededRandom(seed);
    const seen = {
      runs: 0,
      ticks: 0,
      handedOut: 0,
      parts: 0,
      kills: 0,
      killsBeforeTick1: 0,
      inFlight: 0,
      answers: 0,
      injects: 0,
    };
    while (seen.runs < 60) {
      seen.runs++;
      const spec = randomSystem(random);
      const where = `seed ${seed}, run ${seen.runs}`;
      const recorded = new CoreSimulation(spec, random, { journaled: true, world: 'recorded' });
      runToEnd(recorded, 2_000 + Math.floor(random() * 4_000), where);
      const records = recordsOf(recorded);
      const source = new ReplaySource(records);
      const replay = new CoreSimulation(spec, random, {
        world: 'replay',
        replay: source,
        salt: recorded.agents.salt,
      });
      replay.start();
      while (replay.steps < 200_000 && replay.step()) {}
      const events = replay.events.slice(-15).map((event) => JSON.stringify(event));
      const said = `${where}: recorded ${JSON.stringify(recorded.summary?.reason)} at tick ${recorded.summary?.ticks}, replayed ${JSON.stringify(replay.summary?.reason)} at tick ${replay.summary?.ticks}\nlast events of the replay:\n${events.join('\n')}`;
      expect(replay.summary, `${said}\nthe replay did not end`).toBeDefined();
      expect(replay.summary?.divergence, said).toBeUndefined();
      expect(replay.summary?.ticks, said).toBe(source.lastTick);
      expect(replay.summary?.trace, said).toBe(recorded.summary?.trace);
      seen.ticks += source.lastTick;
      seen.parts += replay.recordingParts;
      for (const record of records) {
        if (record.tick) seen.handedOut++;
        if (record.kill) {
          seen.kills++;
          if ((record.kill.tick ?? 0) === 0) seen.killsBeforeTick1++;
          if (record.kill.inFlight) seen.inFlight++;
        }
        if (record.inject?.from?.startsWith(MODEL_PREFIX)) seen.answers++;
        else if (record.inject) seen.injects++;
      }
    }
    process.stdout.write(`core replay: ${JSON.stringify(seen)}\n`);
    // The runs replayed what the invariant is about: kills (before tick 1, and of a batch in
    // flight), injections and model answers.
    expect(seen.killsBeforeTick1, `seed ${seed}`).toBeGreaterThan(0);
    expect(seen.inFlight, `seed ${seed}`).toBeGreaterThan(0);
    expect(seen.answers, `seed ${seed}`).toBeGreaterThan(0);
    expect(seen.injects, `seed ${seed}`).toBeGreaterThan(0);
    // The recording came as inputs, a part each time the core asked for more: about one for each
    // tick that handed batches out.
    expect(seen.parts, `seed ${seed}`).toBeGreaterThan(seen.handedOut / 2);
  });
});

/** Runs a simulation for `steps`, then stops it; a violation names `where` and the last events. */
function runToEnd(simulation: CoreSimulation, steps: number, where: string): void {
  try {
    simulation.start();
    while (simulation.steps < steps && simulation.step()) {}
    if (!simulation.summary) simulation.finish(100_000);
  } catch (error) {
    const recent = simulation.events.slice(-15).map((event) => JSON.stringify(event));
    throw new Error(`${where}: ${(error as Error).message}\nlast events:\n${recent.join('\n')}`);
  }
}

/** What a journaled simulation recorded. */
function recordsOf(simulation: CoreSimulation): JournalRecord[] {
  return simulation.journal.flatMap((effect) => (effect.type === 'record' ? [effect.record] : []));
}
