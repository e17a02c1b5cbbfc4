// Inference and determinism: strict mode gives the same run without a journal however the host
// times its answers; live mode journals the answers, and replay uses them without a GPU host.
// Also the `troupe models` listing and the inference example through the CLI.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMlp } from '../scripts/onnx-builder/index.js';
import { JournalWriter, journalHeader, loadSystem } from '../src/supervisor/index.js';
import { killAllCli, parseJsonLines as parse, troupe } from './helpers/cli.js';
import { agentModule, DELAYED_GPU_HOST, DELAYED_HOST, ROOT } from './helpers/paths.js';
import { killAllHosts, removeTempDirs, startRun, TEMP_ROOT, tempDir, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

const EXAMPLE = join(ROOT, 'examples/inference/inference.system.yaml');

function classifiers(inference: 'live' | 'strict', requests = 6) {
  const dir = tempDir();
  writeFileSync(join(dir, 'mlp.onnx'), buildMlp({ inputs: 8, hidden: [16], outputs: 3, seed: 4 }));
  return writeSystem(
    {
      inference,
      models: [{ name: 'mlp', path: './mlp.onnx', batching: { enabled: true, maxQueueDelayMs: 1 } }],
      agents: [
        { name: 'tally', module: agentModule('counter') },
        ...['ann', 'ben', 'cat'].map((name) => ({
          name,
          module: agentModule('classifier'),
          init: `model=mlp; width=8; requests=${requests}; report=tally`,
          restart: 'transient' as const,
          models: ['mlp'],
          sendTo: ['tally'],
        })),
      ],
    },
    dir,
  );
}

describe('strict inference mode', () => {
  it('gives the same trace on every run, whatever the timing of hosts and answers (no journal)', async () => {
    // Every agent host and the GPU host wait a random 0..8 ms before each batch and answer.
    const delayed = {
      hostEntry: DELAYED_HOST,
      gpuEntry: DELAYED_GPU_HOST,
      hostEnv: { TROUPE_DELAY_MS: '8' },
    };
    const spec = loadSystem(EXAMPLE);
    const ends = await Promise.all([1, 2].map(() => startRun(spec, delayed).done));
    expect(ends[0]).toMatchObject({
      ok: true,
      delivered: 80,
      models: [expect.objectContaining({ answered: 40 })],
    });
    expect(ends[1]?.trace).toBe(ends[0]?.trace);
  });

  it('holds a tick until the answers asked for before it are in', async () => {
    const spec = classifiers('strict');
    const arrivals: number[] = [];
    const run = startRun(spec, {
      onBatch: (tick, _agent, envelopes) => {
        if (envelopes.some((envelope) => envelope.kind === 'troupe/infer.result')) arrivals.push(tick);
      },
    });
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    // Each round of requests is answered at the very next tick: rounds are two ticks apart.
    const rounds = [...new Set(arrivals)];
    expect(rounds).toHaveLength(6);
    for (let i = 1; i < rounds.length; i++) expect((rounds[i] as number) - (rounds[i - 1] as number)).toBe(2);
  });
});

describe('resume with inference', () => {
  it('SIGKILL of the main process while requests are out, then --resume: the same run as without the kill', async () => {
    const spec = classifiers('strict', 30);
    const args = ['run', spec.file, '--root', '/', '--until-idle', '--json'];
    const last = (stdout: string) => parse(stdout).at(-1);
    const whole = last((await troupe(args).exit).stdout);
    expect(whole).toMatchObject({ type: 'run.end', ok: true });
    const journal = join(tempDir(), 'strict.journal');
    const first = troupe([...args, '--journal', journal]);
    await first.waitFor(/"text":"answer 12 of 30/);
    first.child.kill('SIGKILL');
    await first.exit;
    const resumed = await troupe([...args, '--journal', journal, '--resume']).exit;
    expect(resumed.code).toBe(0);
    expect(last(resumed.stdout)).toMatchObject({
      ok: true,
      ticks: whole?.ticks,
      delivered: whole?.delivered,
      trace: whole?.trace,
    });
    const replayed = await troupe(['replay', journal, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
    expect(last(replayed.stdout)).toMatchObject({ type: 'replay.end', ok: true, trace: whole?.trace });
  }, 120_000);
});

describe('live inference mode', () => {
  it('journals answers with their ticks; replay reproduces the run from the journal without a GPU host', async () => {
    const spec = classifiers('live');
    const file = join(tempDir(), 'live.journal');
    const journal = new JournalWriter(file, 'tick');
    journal.write(journalHeader(spec, 'test'));
    const summary = await startRun(spec, { journal }).done;
    expect(summary.ok).toBe(true);
    const { code, stdout } = await troupe(['replay', file, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
    const events = parse(stdout);
    expect(events.at(-1)).toMatchObject({ type: 'replay.end', ok: true, trace: summary.trace });
    expect(code).toBe(0);
    expect(events.some((event) => event.type === 'gpu.spawned')).toBe(false);
    const inspect = await troupe(['inspect', file, '--json'], { cwd: TEMP_ROOT }).exit;
    const answers = parse(inspect.stdout).filter(
      (line) => line.type === 'journal.inject' && line.from === '@gpu/mlp',
    );
    expect(answers).toHaveLength(18);
  });

  it('refuses to replay a journal made with another model file, naming it', async () => {
    const spec = classifiers('live');
    const file = join(tempDir(), 'model.journal');
    const journal = new JournalWriter(file, 'tick');
    journal.write(journalHeader(spec, 'test'));
    await startRun(spec, { journal }).done;
    writeFileSync(spec.models[0]?.path as string, buildMlp({ inputs: 8, hidden: [16], outputs: 3, seed: 5 }));
    const { code, stderr, stdout } = await troupe(['replay', file, '--root', '/'], { cwd: TEMP_ROOT }).exit;
    expect(code).not.toBe(0);
    expect(`${stdout}${stderr}`).toMatch(/@gpu\/mlp/);
  });
});

describe('troupe models', () => {
  it('lists each model with the provider it runs on and why the others were passed over', async () => {
    const { code, stdout } = await troupe(['models', EXAMPLE, '--json']).exit;
    expect(code).toBe(0);
    const [ready] = parse(stdout);
    expect(ready).toMatchObject({ type: 'model.ready', model: 'mlp', provider: 'cpu', batching: true });
    expect(ready?.skipped).toEqual([
      { provider: 'cuda', reason: expect.stringMatching(/Failed to load shared library/) },
    ]);
    expect(ready?.inputs).toEqual(['x: float32[batch, 16]']);
  });
});
