// Quantized weights (issue 29 item 3): the decoder built in code with its linear layers in 8 or 4
// bits, run by ONNX Runtime's MatMulNBits (the contrib operator ONNX Runtime GenAI's CPU exports
// use), loads and generates through the same engine; how far its logits and text drift from the
// fp32 model with the same weights is measured.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quantizeBlocks, writeTinyLlm } from '../scripts/onnx-builder/index.js';
import { argmax, LlmEngine } from '../src/gpu-host/llm/index.js';
import { NodeLauncher } from '../src/launch/index.js';
import { decodeGenerateResult, encodeGenerateRequest } from '../src/protocol/index.js';
import { GpuAlone, systemClock } from '../src/supervisor/index.js';
import { GPU_ENTRY } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';
import { lastLogits, openTinyDecoder, releaseTinyDecoders } from './helpers/tiny-decoder.js';

afterAll(async () => {
  await releaseTinyDecoders();
  removeTempDirs();
});

async function open(quantize?: 4 | 8) {
  const tiny = await openTinyDecoder({
    seed: 3,
    hidden: 128,
    heads: 4,
    layers: 2,
    ...(quantize ? { quantize } : {}),
  });
  return { ...tiny, bytes: statSync(tiny.folder.onnxPath).size };
}

async function greedy(model: Awaited<ReturnType<typeof open>>, prompt: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const engine = new LlmEngine(
      model.step,
      model.codec,
      {
        token: () => {},
        done: (_id, result) => resolve(result.tokenIds),
        failed: (_id, reason) => reject(new Error(reason)),
      },
      { eos: [], maxRows: 1 },
    );
    engine.submit({
      id: 'q#1',
      promptIds: model.codec.encode(prompt),
      maxNewTokens: 16,
      sampling: { temperature: 0, topK: 0, topP: 0 },
      seed: 0,
      stopStrings: [],
      stopTokens: new Set(),
    });
  });
}

const PROMPTS = [
  'The supervisor restarts the agent',
  'Agents talk in envelopes',
  'Every message is journaled',
];

describe('quantized language models', () => {
  it('packs weights the way MatMulNBits reads them: blocks along K, 4 bits two to a byte, low nibble first', () => {
    // K = 4 (one block of 32, padded), N = 2: column 0 is [1, -1, 0.5, 0], column 1 is [2, 0, 0, -2].
    const weights = Float32Array.from([1, 2, -1, 0, 0.5, 0, 0, -2]);
    const four = quantizeBlocks(weights, 4, 2, 4, 32);
    expect(four.blocks).toBe(1);
    expect([...four.scales]).toEqual([1 / 7, 2 / 7].map((scale) => Math.fround(scale)));
    // Column 0: 1 -> 7 + 8 = 15, -1 -> 1, 0.5 -> 4 (3.5 rounds to 4) + 8 = 12, 0 -> 8.
    expect([...four.data.subarray(0, 2)]).toEqual([15 | (1 << 4), 12 | (8 << 4)]);
    const eight = quantizeBlocks(weights, 4, 2, 8, 32);
    expect([...eight.data.subarray(0, 4)]).toEqual([255, 1, 192, 128]);
  });

  it('load and generate; 8 bits stay close to fp32, 4 bits drift more, both measured', async () => {
    const full = await open();
    const int8 = await open(8);
    const int4 = await open(4);
    expect(int8.bytes).toBeLessThan(full.bytes / 2);
    expect(int4.bytes).toBeLessThan(int8.bytes);
    const drift: Record<string, { cosine: number; top1: number; tokens: number }> = {};
    for (const [name, model] of [
      ['int8', int8],
      ['int4', int4],
    ] as const) {
      let cosine = 0;
      let top1 = 0;
      let tokens = 0;
      for (const prompt of PROMPTS) {
        const ids = full.codec.encode(prompt);
        const a = await lastLogits(full.step, ids);
        const b = await lastLogits(model.step, ids);
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let i = 0; i < a.length; i++) {
          dot += (a[i] as number) * (b[i] as number);
          na += (a[i] as number) ** 2;
          nb += (b[i] as number) ** 2;
        }
        cosine += dot / Math.sqrt(na * nb) / PROMPTS.length;
        if (argmax(a) === argmax(b)) top1++;
        const [x, y] = [await greedy(full, prompt), await greedy(model, prompt)];
        expect(y).toHaveLength(16);
        let same = 0;
        while (same < 16 && x[same] === y[same]) same++;
        tokens += same / PROMPTS.length;
      }
      drift[name] = { cosine, top1, tokens };
    }
    console.log(
      `quantized drift from fp32 (cosine of the logits, prompts whose top token agrees of ${PROMPTS.length}, greedy tokens the same before the first difference of 16): ${JSON.stringify(drift)}`,
    );
    expect(drift.int8?.cosine).toBeGreaterThan(0.99);
    expect(drift.int4?.cosine).toBeGreaterThan(0.9);
    expect(drift.int8?.cosine).toBeGreaterThan(drift.int4?.cosine ?? 1);
  });

  it('are served by the GPU host like any other language model', { timeout: 60_000 }, async () => {
    const dir = join(tempDir(), 'tiny-4');
    writeTinyLlm(dir, { seed: 3, hidden: 128, heads: 4, layers: 2, quantize: 4 });
    let ready!: () => void;
    const loaded = new Promise<void>((resolve) => {
      ready = resolve;
    });
    let answered!: (result: ReturnType<typeof decodeGenerateResult>) => void;
    const result = new Promise<ReturnType<typeof decodeGenerateResult>>((resolve) => {
      answered = resolve;
    });
    const gpu = new GpuAlone({
      launcher: new NodeLauncher(),
      entry: GPU_ENTRY,
      models: [
        {
          name: 'q4',
          type: 'llm',
          path: dir,
          providers: ['cpu'],
          intraOpThreads: 1,
          interOpThreads: 1,
          batching: { enabled: true, maxBatch: 4, maxQueueDelayMs: 0 },
          warmup: false,
          maxRequestBytes: 1 << 20,
        },
      ],
      clock: systemClock,
      onEvent: (event) => {
        if (event.type === 'model.ready') ready();
      },
      onAnswer: (_id, answer) => {
        if (!answer.partial) answered(decodeGenerateResult(answer.result ?? new Uint8Array(0)));
      },
    });
    gpu.start();
    try {
      await loaded;
      gpu.submit([
        {
          id: 'q#1',
          model: 'q4',
          request: encodeGenerateRequest({ prompt: 'Agents talk', maxNewTokens: 8 }),
        },
      ]);
      expect(await result).toMatchObject({ model: 'q4', generatedTokens: 8, stopReason: 'max_tokens' });
    } finally {
      await gpu.stop();
    }
  });
});
