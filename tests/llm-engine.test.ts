import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  argmax,
  type DecoderStep,
  eosTokenIds,
  type Generation,
  LlmEngine,
  type textCodec,
} from '../src/gpu-host/llm/index.js';
import { removeTempDirs } from './helpers/system.js';
import { greedyRequest, lastLogits, openTinyDecoder, releaseTinyDecoders } from './helpers/tiny-decoder.js';

let step: DecoderStep;
let codec: ReturnType<typeof textCodec>;
let eos: number[];

beforeAll(async () => {
  const tiny = await openTinyDecoder({ seed: 3 });
  ({ step, codec } = tiny);
  // The model's own end token would stop some sequences early by chance: these tests want length.
  eos = eosTokenIds(tiny.folder);
});

afterAll(async () => {
  await releaseTinyDecoders();
  removeTempDirs();
});

const request = (id: string, prompt: string, extra: Partial<Generation> = {}): Generation =>
  greedyRequest(codec, id, prompt, 12, extra);

interface RunResult {
  tokens: number[];
  text: string;
  stopReason: string;
  pieces: string;
  /** Prompt tokens taken from the prefix cache. */
  cached: number;
}

/** Runs the generations (submitting `later` ones when the first token of `after` arrives). */
async function run(
  generations: Generation[],
  options: {
    maxRows?: number;
    later?: Generation[];
    after?: string;
    prefixCache?: { blockTokens: number; maxBytes: number };
    engine?: (engine: LlmEngine) => void;
    /** Another decoder than the suite's. */
    step?: DecoderStep;
  } = {},
): Promise<Map<string, RunResult>> {
  const results = new Map<string, RunResult>();
  const pieces = new Map<string, string>();
  let engine!: LlmEngine;
  let later = options.later ?? [];
  const total = generations.length + later.length;
  await new Promise<void>((resolve, reject) => {
    engine = new LlmEngine(
      options.step ?? step,
      codec,
      {
        token: (id, _index, _token, text) => {
          pieces.set(id, (pieces.get(id) ?? '') + text);
          if (id === options.after && later.length > 0) {
            for (const generation of later) engine.submit(generation);
            later = [];
          }
        },
        done: (id, result) => {
          results.set(id, {
            tokens: result.tokenIds,
            text: result.text,
            stopReason: result.stopReason,
            pieces: pieces.get(id) ?? '',
            cached: result.cachedPromptTokens,
          });
          if (results.size === total) resolve();
        },
        failed: (id, reason) => reject(new Error(`${id}: ${reason}`)),
      },
      { eos: [], maxRows: options.maxRows ?? 8, prefixCache: options.prefixCache },
    );
    options.engine?.(engine);
    for (const generation of generations) engine.submit(generation);
  });
  return results;
}

/** Greedy decoding without a cache: the whole sequence again at every step. */
async function recompute(prompt: number[], count: number, decoder = step): Promise<number[]> {
  const tokens = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const next = argmax(await lastLogits(decoder, tokens));
    out.push(next);
    tokens.push(next);
  }
  return out;
}

describe('generation engine', () => {
  it('reads layers, heads and head size from the model, not from config', () => {
    expect(step).toMatchObject({ layers: 2, heads: 4, headDim: 16 });
    expect(eos).toHaveLength(1);
  });

  it('generates with the KV cache exactly the tokens full recomputation gives', async () => {
    const prompt = 'The supervisor restarts the agent';
    const results = await run([request('a', prompt, { maxNewTokens: 16 })]);
    const cached = results.get('a')?.tokens ?? [];
    expect(cached).toHaveLength(16);
    expect(cached).toEqual(await recompute(codec.encode(prompt), 16));
  });

  it('gives each sequence the same greedy tokens alone and in a continuous batch with others joining and leaving', async () => {
    const prompts = {
      a: 'The writer drafts a short answer',
      b: 'Agents talk in envelopes',
      c: 'Small steps',
      d: 'A model answers many agents at once: their requests share the work',
    };
    const lengths = { a: 20, b: 5, c: 14, d: 9 };
    const alone = new Map<string, number[]>();
    for (const [id, prompt] of Object.entries(prompts)) {
      const result = await run([request(id, prompt, { maxNewTokens: lengths[id as keyof typeof lengths] })]);
      alone.set(id, result.get(id)?.tokens ?? []);
    }
    // a, b and c start together; b leaves after 5 tokens; d joins once a has its first token.
    const together = await run(
      ['a', 'b', 'c'].map((id) => request(id, prompts[id as 'a'], { maxNewTokens: lengths[id as 'a'] })),
      { later: [request('d', prompts.d, { maxNewTokens: lengths.d })], after: 'a' },
    );
    for (const id of Object.keys(prompts)) expect(together.get(id)?.tokens).toEqual(alone.get(id));
  });

  it('samples the same text from the same seed, and other text from another', async () => {
    const sampled = (seed: number) =>
      request(`s${seed}`, 'The critic points out', {
        maxNewTokens: 24,
        seed,
        sampling: { temperature: 1, topK: 50, topP: 0.95 },
      });
    const first = (await run([sampled(7)])).get('s7')?.text;
    const again = (await run([sampled(7), request('other', 'Local models')])).get('s7')?.text;
    const other = (await run([sampled(8)])).get('s8')?.text;
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('cancels a running generation between steps, and a waiting one before it starts', async () => {
    const done = new Map<string, { tokens: number; reason: string }>();
    await new Promise<void>((resolve) => {
      const engine: LlmEngine = new LlmEngine(
        step,
        codec,
        {
          token: (id, index) => {
            if (id === 'run' && index === 2) {
              engine.cancel('run');
              engine.cancel('queued');
            }
          },
          done: (id, result) => {
            done.set(id, { tokens: result.tokenIds.length, reason: result.stopReason });
            if (done.size === 2) resolve();
          },
          failed: () => {},
        },
        { eos: [], maxRows: 1 },
      );
      engine.submit(request('run', 'The writer', { maxNewTokens: 100 }));
      engine.submit(request('queued', 'The critic', { maxNewTokens: 100 }));
    });
    expect(done.get('run')).toEqual({ tokens: 3, reason: 'cancelled' });
    expect(done.get('queued')).toEqual({ tokens: 0, reason: 'cancelled' });
  });

  it('ends at max tokens, at a stop token and at a stop string (cut before it), streaming the same text', async () => {
    const greedy = (await run([request('g', 'The moderator decides', { maxNewTokens: 12 })])).get('g');
    expect(greedy).toMatchObject({ stopReason: 'max_tokens' });
    expect(greedy?.tokens).toHaveLength(12);
    expect(greedy?.pieces).toBe(greedy?.text);
    const text = greedy?.text ?? '';
    const stop = text.slice(4, 7);
    const cut = (
      await run([request('s', 'The moderator decides', { maxNewTokens: 12, stopStrings: [stop] })])
    ).get('s');
    expect(cut).toMatchObject({ stopReason: 'stop_string', text: text.slice(0, text.indexOf(stop)) });
    const token = greedy?.tokens[3] as number;
    const atToken = (
      await run([request('t', 'The moderator decides', { maxNewTokens: 12, stopTokens: new Set([token]) })])
    ).get('t');
    expect(atToken?.stopReason).toBe('stop_token');
    expect(atToken?.tokens).toEqual(greedy?.tokens.slice(0, greedy.tokens.indexOf(token)));
  });
});

describe("a decoder of a real model's layout: grouped-query attention, a gated MLP", () => {
  // SmolLM2's layout at a test's size: 6 query heads sharing 2 key/value heads, a SiLU-gated MLP.
  let grouped: DecoderStep;
  beforeAll(async () => {
    ({ step: grouped } = await openTinyDecoder({
      seed: 5,
      hidden: 96,
      heads: 6,
      kvHeads: 2,
      layers: 2,
      intermediate: 160,
      gated: true,
    }));
  });

  it('keeps a cache of the key/value heads only, read from the model', () => {
    expect(grouped).toMatchObject({ layers: 2, heads: 2, headDim: 16 });
  });

  it('generates in a continuous batch, its cache in place, exactly the tokens full recomputation gives', async () => {
    const prompts = {
      a: 'The supervisor restarts the agent',
      b: 'Small steps',
      c: 'Agents talk in envelopes',
    };
    const results = await run(
      Object.entries(prompts).map(([id, prompt]) => request(id, prompt, { maxNewTokens: 14 })),
      { step: grouped },
    );
    for (const [id, prompt] of Object.entries(prompts)) {
      const tokens = results.get(id)?.tokens ?? [];
      expect(tokens).toHaveLength(14);
      expect(tokens).toEqual(await recompute(codec.encode(prompt), 14, grouped));
    }
  });
});
