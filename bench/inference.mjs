// GPU host benchmarks, each against a baseline measured in the same run:
//   1. 8 classifier agents asking one MLP concurrently: batching on against batching off;
//   2. round trip through the GPU host at batch 1 against session.run in this process;
//   3. the host's responsiveness: a request refused on its IPC thread while a long batch runs,
//      against the same refusal while the host is idle.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { NodeLauncher } from '../dist/launch/index.js';
import { encodeInferenceRequest } from '../dist/protocol/index.js';
import { loadSystem, Runtime } from '../dist/supervisor/index.js';
import { buildMlp } from '../dist/tools/onnx-builder/index.js';
import { fmt, median, startGpuHost } from './gpu-host.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hostEntry = join(root, 'dist', 'actors', 'host-main.js');
// MLP_INPUTS and MLP_HIDDEN (comma-separated widths) change the model from the environment.
const WIDTH = Number(process.env.MLP_INPUTS ?? 1024);
const HIDDEN = (process.env.MLP_HIDDEN ?? '4096,4096').split(',').map(Number);
const SHAPE = { inputs: WIDTH, hidden: HIDDEN, outputs: 10, seed: 1 };

function system(work, name, batching, agents, requests, parallel, isolation) {
  const file = join(work, `${name}.system.yaml`);
  const classifier = join(root, 'wasm', 'build', 'classifier.wasm');
  writeFileSync(
    file,
    JSON.stringify({
      name,
      models: [
        { name: 'mlp', path: './mlp.onnx', batching: { enabled: batching, maxBatch: 8, maxQueueDelayMs: 2 } },
      ],
      agents: Array.from({ length: agents }, (_, i) => ({
        name: `agent-${i}`,
        module: classifier,
        init: `model=mlp; width=${WIDTH}; requests=${requests}; parallel=${parallel}`,
        restart: 'transient',
        isolation,
        capabilities: { models: ['mlp'] },
      })),
    }),
  );
  return loadSystem(file, { root: '/' });
}

/**
 * Answers per second for `agents` agents each asking `requests` times, `parallel` at a time, in
 * `isolation`. 200 each: with 40, the agents' start and the last stragglers filled a third of the
 * window and held the gain at 2.65x where the same system makes 4.25x over 200.
 */
async function concurrent(work, batching, parallel, isolation, agents = 8, requests = 200) {
  const name = batching ? 'batched' : 'unbatched';
  const spec = system(work, name, batching, agents, requests, parallel, isolation);
  let started;
  let lastTick;
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry,
    untilIdle: true,
    onEvent: (event) => {
      // From the model being ready to the tick that delivered the last answer (not the shutdown).
      if (event.type === 'model.ready') started = performance.now();
      if (event.type === 'tick') lastTick = performance.now();
    },
  });
  const summary = await runtime.start();
  const seconds = (lastTick - started) / 1000;
  const [model] = summary.models;
  return { rate: model.answered / seconds, runs: model.runs, largest: model.largestBatch };
}

function request(rows, width = WIDTH) {
  const values = Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i));
  return encodeInferenceRequest({
    inputs: [{ name: 'x', dtype: 'float32', dims: [rows, width], data: new Uint8Array(values.buffer) }],
  });
}

/** A GPU host with the model loaded, and a function that times one request's answer. */
async function gpuHost(path) {
  const { gpu, send } = await startGpuHost({ name: 'mlp', path, warmup: true });
  const ask = (payload) =>
    new Promise((resolve) => {
      const start = performance.now();
      send(payload, () => resolve(performance.now() - start));
    });
  return { gpu, ask };
}

/** The model in this process, set up as the GPU host sets it up. */
const directSession = (path) =>
  ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });

/** Rows per second of the model run directly at batch 1 and at batch 8: batching's ceiling. */
async function modelGain(path, rounds = 40) {
  const session = await directSession(path);
  const rate = async (rows) => {
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: rows * WIDTH }, (_, i) => Math.sin(i)),
      [rows, WIDTH],
    );
    await session.run({ x });
    const start = performance.now();
    for (let i = 0; i < rounds; i++) await session.run({ x });
    return (rows * rounds) / ((performance.now() - start) / 1000);
  };
  const one = await rate(1);
  const eight = await rate(8);
  await session.release();
  return { one, eight };
}

/** Median round trip at batch 1, in-process and through the host, measured alternately. */
async function latency(path, rounds = 100) {
  const session = await directSession(path);
  const values = Float32Array.from({ length: WIDTH }, (_, i) => Math.sin(i));
  const { gpu, ask } = await gpuHost(path);
  const payload = request(1);
  const direct = [];
  const hosted = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await session.run({ x: new ort.Tensor('float32', values, [1, WIDTH]) });
    direct.push(performance.now() - start);
    hosted.push(await ask(payload));
  }
  await session.release();
  await gpu.stop();
  return { direct: median(direct), hosted: median(hosted) };
}

async function responsiveness(path) {
  const { gpu, ask } = await gpuHost(path);
  const refused = new Uint8Array([0xff, 0xff]); // not a request: refused on the host's IPC thread
  const idle = [];
  for (let i = 0; i < 20; i++) idle.push(await ask(refused));
  const long = ask(request(512));
  const busy = [];
  for (let i = 0; i < 20; i++) busy.push(await ask(refused));
  const longMs = await long;
  await gpu.stop();
  return { idle: median(idle), busy: median(busy), longMs };
}

export async function run(work) {
  const path = join(work, 'mlp.onnx');
  writeFileSync(path, buildMlp(SHAPE));
  console.log(
    `inference: MLP ${SHAPE.inputs}-${SHAPE.hidden.join('-')}-${SHAPE.outputs}, CPU, 1 thread per session`,
  );
  const ceiling = await modelGain(path);
  console.log(
    `  the model itself, in-process: ${fmt(ceiling.one, 0)} rows/s at batch 1, ${fmt(ceiling.eight, 0)} rows/s at batch 8 = ${(ceiling.eight / ceiling.one).toFixed(2)}x (the most batching can give)`,
  );
  // Eight agent processes share the two cores with the host's model thread; on the shared pool
  // the same agents are one thread's work.
  for (const [parallel, isolation] of [
    [1, 'process'],
    [4, 'process'],
    [4, 'shared'],
  ]) {
    const off = await concurrent(work, false, parallel, isolation);
    const on = await concurrent(work, true, parallel, isolation);
    const each = parallel === 1 ? 'one request at a time' : `${parallel} requests outstanding`;
    console.log(`  8 agents (isolation: ${isolation}), ${each} each:`);
    console.log(
      `    batching off: ${fmt(off.rate, 1)} answers/s (${off.runs} runs, largest batch ${off.largest})`,
    );
    console.log(
      `    batching on:  ${fmt(on.rate, 1)} answers/s (${on.runs} runs, largest batch ${on.largest}) = ${(on.rate / off.rate).toFixed(2)}x batching off = ${(on.rate / off.rate / (ceiling.eight / ceiling.one)).toFixed(2)} of what the model itself gains`,
    );
  }
  const { direct, hosted } = await latency(path);
  console.log(
    `  round trip at batch 1: in-process session.run ${fmt(direct, 2)} ms, through the GPU host ${fmt(hosted, 2)} ms = ${(hosted / direct).toFixed(2)}x`,
  );
  const tiny = join(work, 'tiny.onnx');
  writeFileSync(tiny, buildMlp({ inputs: WIDTH, hidden: [8], outputs: 2, seed: 1 }));
  const small = await latency(tiny);
  console.log(
    `  same for a tiny model (the fixed cost): in-process ${fmt(small.direct, 3)} ms, through the host ${fmt(small.hosted, 3)} ms (+${fmt((small.hosted - small.direct) * 1000)} µs)`,
  );
  const alive = await responsiveness(path);
  console.log(
    `  host IPC while a ${fmt(alive.longMs)} ms batch of 512 runs: a refusal takes ${fmt(alive.busy, 2)} ms (idle: ${fmt(alive.idle, 2)} ms)`,
  );
}
