// Generation benchmark, in one run: tokens per second for 8 generations at once under continuous
// batching against the same 8 one after another, and time to first token under that load.
// H, L, TOKENS and THREADS (environment) change the decoder's width and depth, the tokens per
// request and ONNX Runtime's threads.
import { join } from 'node:path';
import { decodeGenerateResult, encodeGenerateRequest } from '../dist/protocol/index.js';
import { writeTinyLlm } from '../dist/tools/onnx-builder/index.js';
import { fmt, median, startGpuHost } from './gpu-host.mjs';

const TOKENS = Number(process.env.TOKENS ?? 32);
const PROMPTS = [
  'The supervisor watches every agent',
  'Agents talk in envelopes',
  'The writer drafts a short answer',
  'The critic points out what is wrong',
  'A model answers many agents at once',
  'Local models keep the data on the machine',
  'Small steps, clear names',
  'When an agent crashes, the supervisor restarts it',
];

async function host(folder) {
  const threads = Number(process.env.THREADS ?? 2);
  const { gpu, send } = await startGpuHost({
    name: 'llm',
    type: 'llm',
    path: folder,
    intraOpThreads: threads,
    batching: { enabled: true, maxBatch: 8, maxQueueDelayMs: 0 },
  });
  /** Resolves with the tokens generated and the time to the first one. */
  const generate = (prompt) =>
    new Promise((resolve) => {
      const start = performance.now();
      let first;
      send(encodeGenerateRequest({ prompt, maxNewTokens: TOKENS }), (answer) => {
        if (answer.partial) {
          first ??= performance.now() - start;
          return;
        }
        const result = decodeGenerateResult(answer.result);
        resolve({ tokens: result.generatedTokens, ttft: first ?? performance.now() - start });
      });
    });
  return { gpu, generate };
}

export async function run(work) {
  const folder = join(work, 'llm');
  writeTinyLlm(folder, {
    seed: 1,
    hidden: Number(process.env.H ?? 256),
    heads: 8,
    layers: Number(process.env.L ?? 4),
  });
  const { gpu, generate } = await host(folder);
  await generate('warm up');
  let start = performance.now();
  let tokens = 0;
  const alone = [];
  for (const prompt of PROMPTS) {
    const result = await generate(prompt);
    tokens += result.tokens;
    alone.push(result.ttft);
  }
  const sequential = tokens / ((performance.now() - start) / 1000);
  start = performance.now();
  const results = await Promise.all(PROMPTS.map((prompt) => generate(prompt)));
  const batched =
    results.reduce((sum, result) => sum + result.tokens, 0) / ((performance.now() - start) / 1000);
  await gpu.stop();
  const ttft = results.map((result) => result.ttft);
  const shape = `hidden ${process.env.H ?? 256}, ${process.env.L ?? 4} layers, 8 heads`;
  console.log(
    `generation: decoder ${shape}; ${TOKENS} new tokens per request, CPU, ${process.env.THREADS ?? 2} threads`,
  );
  console.log(
    `  8 generations one after another: ${fmt(sequential, 1)} tokens/s (time to first token, median ${fmt(median(alone), 1)} ms)`,
  );
  console.log(
    `  8 generations at once, continuous batching: ${fmt(batched, 1)} tokens/s = ${(batched / sequential).toFixed(2)}x; time to first token median ${fmt(median(ttft), 1)} ms, max ${fmt(Math.max(...ttft), 1)} ms`,
  );
}
