// The prefix cache and the cache kept in place (issue 29): prompt blocks shared across requests are prefilled once and reused,
// on a real ONNX Runtime session of a tiny decoder built in code. A cached prefix is a cache,
// never a change of result: the same tokens with it and without it, greedy and sampled, for
// requests that come together or one after another; its bytes never pass its bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DecoderStep,
  type Generation,
  LlmEngine,
  PrefixCache,
  type textCodec,
} from '../src/gpu-host/llm/index.js';
import { removeTempDirs } from './helpers/system.js';
import { greedyRequest, openTinyDecoder, releaseTinyDecoders } from './helpers/tiny-decoder.js';

let step: DecoderStep;
let codec: ReturnType<typeof textCodec>;

beforeAll(async () => {
  ({ step, codec } = await openTinyDecoder({ seed: 3 }));
});

afterAll(async () => {
  await releaseTinyDecoders();
  removeTempDirs();
});

const SYSTEM =
  'You are one voice of a panel of agents. The supervisor restarts any agent that crashes, and every message is journaled. ';
const QUESTIONS = ['What is a tick?', 'Who restarts the agent?', 'Why journal messages?', 'Is replay exact?'];

interface Outcome {
  tokens: number[];
  text: string;
  cached: number;
}

const request = (id: string, prompt: string, extra: Partial<Generation> = {}): Generation =>
  greedyRequest(codec, id, prompt, 10, extra);

/**
 * The decoder, recording each decode step's rows by their most likely token and its logit (sorted,
 * so two runs whose rows are in another order compare): far finer than the tokens chosen.
 */
function recording(steps: string[][]): DecoderStep {
  return {
    ...step,
    run: async (input) => {
      const output = await step.run(input);
      if (input.length === 1) {
        const rows: string[] = [];
        for (let row = 0; row < input.rows; row++) {
          const logits = output.logits.subarray(row * step.vocab, (row + 1) * step.vocab);
          let best = 0;
          for (let i = 1; i < logits.length; i++)
            if ((logits[i] as number) > (logits[best] as number)) best = i;
          rows.push(`${best}:${(logits[best] as number).toFixed(3)}`);
        }
        steps.push(rows.sort());
      }
      return output;
    },
  };
}

/** Runs waves of generations in one engine, each wave submitted together once the last has ended. */
async function generate(
  waves: Generation[][],
  prefixCache?: { blockTokens: number; maxBytes: number },
  steps: string[][] = [],
  inPlace = true,
): Promise<{ results: Map<string, Outcome>; engine: LlmEngine }> {
  const results = new Map<string, Outcome>();
  let settle: (() => void) | undefined;
  let fail: ((error: Error) => void) | undefined;
  let left = 0;
  const engine = new LlmEngine(
    recording(steps),
    codec,
    {
      token: () => {},
      done: (id, result) => {
        results.set(id, { tokens: result.tokenIds, text: result.text, cached: result.cachedPromptTokens });
        if (--left === 0) settle?.();
      },
      failed: (id, reason) => fail?.(new Error(`${id}: ${reason}`)),
    },
    { eos: [], maxRows: 8, prefixCache, inPlace },
  );
  for (const wave of waves) {
    await new Promise<void>((resolve, reject) => {
      settle = resolve;
      fail = reject;
      left = wave.length;
      for (const generation of wave) engine.submit(generation);
    });
  }
  return { results, engine };
}

const CACHE = { blockTokens: 8, maxBytes: 64 * 1024 * 1024 };
const sampled = { sampling: { temperature: 0.9, topK: 20, topP: 0.95 }, seed: 7 };

describe('the prefix cache', () => {
  it('gives the same tokens with it and without it, greedy and sampled, requests together', async () => {
    const wave = () => [
      ...QUESTIONS.map((question, i) => request(`g${i}`, SYSTEM + question)),
      ...QUESTIONS.map((question, i) => request(`s${i}`, SYSTEM + question, { ...sampled, seed: 7 + i })),
    ];
    const stepsOff: string[][] = [];
    const stepsOn: string[][] = [];
    const off = await generate([wave()], undefined, stepsOff);
    const on = await generate([wave()], CACHE, stepsOn);
    for (const [id, outcome] of off.results) {
      expect(on.results.get(id)?.tokens, id).toEqual(outcome.tokens);
      expect(outcome.cached).toBe(0);
    }
    expect(stepsOn).toEqual(stepsOff);
    // The shared system prompt was prefilled once, then every request took it from the cache.
    const shared = Math.floor(codec.encode(SYSTEM).length / CACHE.blockTokens) * CACHE.blockTokens;
    for (const outcome of on.results.values())
      expect(outcome.cached).toBeGreaterThanOrEqual(shared - CACHE.blockTokens);
    expect(on.engine.prefixStats).toMatchObject({ lookups: 8, hits: 8 });
  });

  it('runs requests that share a cached prefix together, whatever the length of the rest of each', async () => {
    const questions = [
      'Why?',
      'Who restarts the agent when it crashes twice in a row?',
      'Is replay exact, tick for tick?',
    ];
    const wave = () => questions.map((question, i) => request(`d${i}`, SYSTEM + question));
    const stepsOff: string[][] = [];
    const stepsOn: string[][] = [];
    const off = await generate([wave()], undefined, stepsOff);
    const on = await generate([wave()], CACHE, stepsOn);
    for (const [id, outcome] of off.results) expect(on.results.get(id)?.tokens, id).toEqual(outcome.tokens);
    // Every decode step's logits agree, not only the tokens they chose.
    expect(stepsOn).toEqual(stepsOff);
    const cached = [...on.results.values()].map((outcome) => outcome.cached);
    expect(new Set(cached).size).toBe(1);
    expect(cached[0]).toBeGreaterThan(0);
  });

  it('gives the same tokens with it and without it to requests that come one after another', async () => {
    const waves = () =>
      QUESTIONS.map((question, i) => [request(`q${i}`, SYSTEM + question, i % 2 ? sampled : {})]);
    const stepsOff: string[][] = [];
    const stepsOn: string[][] = [];
    const off = await generate(waves(), undefined, stepsOff);
    const on = await generate(waves(), CACHE, stepsOn);
    for (const [id, outcome] of off.results) expect(on.results.get(id)?.tokens, id).toEqual(outcome.tokens);
    expect(stepsOn).toEqual(stepsOff);
    // The first prefilled everything and filled the cache; the others started from it.
    expect(on.results.get('q0')?.cached).toBe(0);
    for (const id of ['q1', 'q2', 'q3']) expect(on.results.get(id)?.cached).toBeGreaterThan(0);
    // A prompt that is a cached prompt plus more takes all of it, and its own text is right.
    const longer = request('long', `${SYSTEM + QUESTIONS[0]} And then?`);
    const again = await generate([[request('first', SYSTEM + QUESTIONS[0])], [longer]], CACHE);
    const alone = await generate([[request('long', `${SYSTEM + QUESTIONS[0]} And then?`)]]);
    expect(again.results.get('long')?.tokens).toEqual(alone.results.get('long')?.tokens);
    expect(again.results.get('long')?.cached).toBeGreaterThan(
      codec.encode(SYSTEM).length - CACHE.blockTokens,
    );
  });

  it('never holds more than its bound, evicting the least recently used blocks', async () => {
    const blockBytes = new PrefixCache(step, { blockTokens: 8, maxBytes: 1 }).blockBytes;
    const bound = { blockTokens: 8, maxBytes: blockBytes * 10 };
    const prompts = Array.from({ length: 6 }, (_, i) => `${i} ${SYSTEM}${QUESTIONS[i % 4]}`);
    const off = await generate(prompts.map((prompt, i) => [request(`p${i}`, prompt)]));
    const on = await generate(
      prompts.map((prompt, i) => [request(`p${i}`, prompt)]),
      bound,
    );
    for (const [id, outcome] of off.results) expect(on.results.get(id)?.tokens, id).toEqual(outcome.tokens);
    const stats = on.engine.prefixStats;
    expect(stats?.bytes).toBeLessThanOrEqual(bound.maxBytes);
    expect(stats?.blocks).toBeLessThanOrEqual(10);
    expect(stats?.evicted).toBeGreaterThan(0);
  });

  it('keeps the cache in place or copies it at every step, with the same logits at every step', async () => {
    // Requests that join while others decode, finish at different lengths and leave.
    const wave = () => [
      ...QUESTIONS.map((question, i) => request(`w${i}`, SYSTEM + question, { maxNewTokens: 6 + 7 * i })),
      request('short', 'Hi', { maxNewTokens: 200 }),
    ];
    const copied: string[][] = [];
    const inPlace: string[][] = [];
    const a = await generate([wave()], CACHE, copied, false);
    const b = await generate([wave()], CACHE, inPlace, true);
    expect(inPlace).toEqual(copied);
    for (const [id, outcome] of a.results) expect(b.results.get(id)?.tokens, id).toEqual(outcome.tokens);
    // 200 new tokens past a prompt of a few: the capacity (64 columns at a time, 128 once the
    // others joined) grew twice on the way.
    expect(b.results.get('short')?.tokens).toHaveLength(200);
  });

  it('keeps working with the plain Optimum layout (no new columns): the cache is copied as before', async () => {
    const plain = await openTinyDecoder({ seed: 3, newColumns: false });
    expect(plain.meta.newColumns).toBe(false);
    const tokens = await new Promise<number[]>((resolve, reject) => {
      const engine = new LlmEngine(
        plain.step,
        codec,
        {
          token: () => {},
          done: (_id, result) => resolve(result.tokenIds),
          failed: (_id, why) => reject(new Error(why)),
        },
        { eos: [], maxRows: 4 },
      );
      engine.submit(request('p', SYSTEM + QUESTIONS[1], { maxNewTokens: 20 }));
    });
    const inPlace = await generate([[request('p', SYSTEM + QUESTIONS[1], { maxNewTokens: 20 })]]);
    expect(tokens).toEqual(inPlace.results.get('p')?.tokens);
  });
});
