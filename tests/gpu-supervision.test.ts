// The GPU host as a child of the supervision tree, on real processes: its deaths are decided by the
// root's strategy and intensity like an agent's, and a recorded death replays to the same trace.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMlp } from '../scripts/onnx-builder/index.js';
import { decodeJournal } from '../src/protocol/index.js';
import { JournalWriter, journalHeader, ReplaySource, type SystemSpec } from '../src/supervisor/index.js';
import { collectAnswers } from './helpers/inference.js';
import { agentModule } from './helpers/paths.js';
import {
  gpuHostPid,
  killAllHosts,
  removeTempDirs,
  startRun,
  statesOf,
  tempDir,
  writeSystem,
} from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

function classifiers(strategy: 'one_for_one' | 'one_for_all', maxRestarts: number): SystemSpec {
  const dir = tempDir();
  writeFileSync(join(dir, 'mlp.onnx'), buildMlp({ inputs: 16, hidden: [32], outputs: 4, seed: 5 }));
  return writeSystem(
    {
      strategy,
      maxRestarts,
      models: [{ name: 'mlp', path: './mlp.onnx' }],
      agents: ['ann', 'ben'].map((name) => ({
        name,
        module: agentModule('classifier'),
        init: 'model=mlp; width=16; requests=3',
        restart: 'transient' as const,
        models: ['mlp'],
      })),
    },
    dir,
  );
}

const killGpuHost = () => process.kill(gpuHostPid() as number, 'SIGKILL');

describe('the GPU host in the supervision tree', () => {
  it('past the root intensity, its deaths stop the system with a reason naming it', {
    timeout: 60_000,
  }, async () => {
    let kills = 0;
    const run = startRun(classifiers('one_for_one', 1), {
      onEvent: (event) => {
        if (event.type === 'gpu.spawned' && kills < 3) {
          kills++;
          killGpuHost();
        }
      },
    });
    const summary = await run.done;
    expect(summary.ok).toBe(false);
    expect(summary.reason).toMatch(
      /^restart intensity exceeded: supervisor "test" needed more than 1 restarts/,
    );
    expect(summary.reason).toContain('last: "@gpu" GPU host process killed by SIGKILL');
    expect(run.events.filter((event) => event.type === 'gpu.crashed')).toHaveLength(2);
  });

  it('under one_for_all, its death restarts every agent; the answers still come once each', {
    timeout: 60_000,
  }, async () => {
    const answers = collectAnswers();
    let killed = false;
    const run = startRun(classifiers('one_for_all', 5), {
      onBatch: answers.onBatch,
      onEvent: (event) => {
        if (event.type === 'tick' && !killed) {
          killed = true;
          killGpuHost();
        }
      },
    });
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(run.events.filter((event) => event.type === 'gpu.crashed')).toHaveLength(1);
    for (const name of ['ann', 'ben']) {
      expect(statesOf(run.events, name)).toContain('restarting');
      expect(answers.errors(name)).toEqual([]);
    }
  });

  it('a recorded death of the GPU host replays to the same trace, restarting the same agents', {
    timeout: 60_000,
  }, async () => {
    const spec = classifiers('one_for_all', 5);
    const file = join(tempDir(), 'gpu.journal');
    const journal = new JournalWriter(file, 'tick');
    journal.write(journalHeader(spec, 'test'));
    let killed = false;
    const recorded = startRun(spec, {
      journal,
      onEvent: (event) => {
        if (event.type === 'tick' && !killed) {
          killed = true;
          killGpuHost();
        }
      },
    });
    const original = await recorded.done;
    expect(original.ok).toBe(true);
    const source = new ReplaySource(decodeJournal(readFileSync(file)).records);
    const replay = startRun(spec, { replay: source, untilIdle: false, maxTicks: source.lastTick });
    const replayed = await replay.done;
    expect(replayed.divergence).toBeUndefined();
    expect(replayed.trace).toBe(original.trace);
    // No GPU host ran in the replay, yet its death restarted the agents as recorded.
    expect(replay.events.some((event) => event.type === 'gpu.spawned')).toBe(false);
    expect(statesOf(replay.events, 'ann')).toEqual(statesOf(recorded.events, 'ann'));
  });
});
