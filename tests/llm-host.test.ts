// Text generation through the GPU host process: streamed tokens and a final answer for agents,
// seeded sampling, cancellation, a malformed model folder named piece by piece, and a GPU host
// killed mid-generation (a clear error, never a hang).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMlp, writeTinyLlm } from '../scripts/onnx-builder/index.js';
import {
  decodeGenerateResult,
  decodeGenerateToken,
  decodeInferenceError,
  type Envelope,
  encodeGenerateRequest,
  GENERATE_CANCEL_KIND,
  GENERATE_DONE_KIND,
  GENERATE_KIND,
  GENERATE_TOKEN_KIND,
  type GenerateRequest,
  INFER_ERROR_KIND,
  InferenceErrorCode,
} from '../src/protocol/index.js';
import { loadSystem, type RuntimeEvent } from '../src/supervisor/index.js';
import { forward } from './helpers/inference.js';
import { agentModule, ROOT } from './helpers/paths.js';
import {
  gpuHostPid,
  killAllHosts,
  removeTempDirs,
  startRun,
  tempDir,
  writeSystem,
} from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

function llmSystem(dir = tempDir(), folder = 'tiny') {
  return writeSystem(
    {
      models: [{ name: 'llm', type: 'llm', path: `./${folder}`, batching: { maxBatch: 4 } }],
      agents: [
        { name: 'proxy', module: agentModule('proxy'), models: ['llm'] },
        { name: 'other', module: agentModule('proxy'), models: ['llm'] },
      ],
    },
    dir,
  );
}

/** What each agent was delivered from the model, decoded. */
function deliveries() {
  const seen: Array<{ agent: string; envelope: Envelope }> = [];
  return {
    onBatch: (_tick: number, agent: string, envelopes: readonly Envelope[]) => {
      for (const envelope of envelopes) seen.push({ agent, envelope });
    },
    tokens: (id: string) =>
      seen
        .filter(({ envelope }) => envelope.kind === GENERATE_TOKEN_KIND && envelope.correlationId === id)
        .map(({ envelope }) => decodeGenerateToken(envelope.payload as Uint8Array)),
    done: (id: string) =>
      seen
        .filter(({ envelope }) => envelope.kind === GENERATE_DONE_KIND && envelope.correlationId === id)
        .map(({ envelope }) => decodeGenerateResult(envelope.payload as Uint8Array)),
    errors: (id: string) =>
      seen
        .filter(({ envelope }) => envelope.kind === INFER_ERROR_KIND && envelope.correlationId === id)
        .map(({ envelope }) => decodeInferenceError(envelope.payload as Uint8Array)),
  };
}

const ask = (request: GenerateRequest) => forward('@gpu/llm', encodeGenerateRequest(request), GENERATE_KIND);

describe('the chat example', () => {
  it('takes three rounds the same way twice, batching the panel, and finishes after a kill of the critic', async () => {
    const spec = loadSystem(join(ROOT, 'examples/chat/chat.system.yaml'));
    const talk = (events: readonly RuntimeEvent[]) =>
      events.flatMap((event) => (event.type === 'agent.log' ? [`${event.agent}: ${event.text}`] : []));
    const first = startRun(spec);
    const second = startRun(spec);
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(a.ok).toBe(true);
    expect(b.trace).toBe(a.trace);
    // Each agent says the same in the same order; agents of one tick may log in any order.
    const byAgent = (events: readonly RuntimeEvent[]) => [...talk(events)].sort();
    expect(byAgent(second.events)).toEqual(byAgent(first.events));
    expect(talk(first.events).filter((line) => line.startsWith('writer: writer ('))).toHaveLength(3);
    expect(talk(first.events).at(-1)).toBe('moderator: moderator: that is 3 rounds; thank you all.');
    // The three panelists ask in the same tick: the GPU host generates for them together.
    expect(a.models?.[0]).toMatchObject({ name: 'tiny', answered: 9, largestBatch: 3 });
    let killed = false;
    const third = startRun(spec, {
      onEvent: (event) => {
        if (!killed && event.type === 'agent.log' && event.agent === 'critic') {
          killed = true;
          third.runtime.kill('critic');
        }
      },
    });
    const summary = await third.done;
    expect(summary.ok).toBe(true);
    expect(summary.agents.critic?.restarts).toBe(1);
    expect(talk(third.events).at(-1)).toBe('moderator: moderator: that is 3 rounds; thank you all.');
  });
});

describe('generation through the GPU host', () => {
  it('streams tokens in order to the agent, then the text, token counts and why it stopped', async () => {
    const dir = tempDir();
    writeTinyLlm(join(dir, 'tiny'), { seed: 2 });
    const seen = deliveries();
    const run = startRun(llmSystem(dir), { onBatch: seen.onBatch });
    run.runtime.inject('proxy', 'forward', ask({ prompt: 'The supervisor watches', maxNewTokens: 10 }));
    run.runtime.inject(
      'proxy',
      'forward',
      ask({ messages: [{ role: 'user', content: 'Hello' }], maxNewTokens: 6 }),
    );
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    const [done] = seen.done('proxy#1');
    const tokens = seen.tokens('proxy#1');
    expect(tokens.map((token) => token.index)).toEqual([...Array(10).keys()]);
    expect(done).toMatchObject({ model: 'llm', generatedTokens: 10, stopReason: 'max_tokens' });
    expect(done?.promptTokens).toBeGreaterThan(3);
    expect(tokens.map((token) => token.text).join('')).toBe(done?.text);
    expect(done?.tokenIds.map(Number)).toEqual(tokens.map((token) => Number(token.tokenId)));
    // Chat messages go through the model's chat template (more prompt tokens than the words).
    expect(seen.done('proxy#2')[0]).toMatchObject({ generatedTokens: 6 });
    expect(seen.done('proxy#2')[0]?.promptTokens).toBeGreaterThan(10);
    expect(summary.models?.[0]).toMatchObject({ name: 'llm', state: 'ready', answered: 2 });
  });

  it('reports the prompt tokens its prefix cache held, per generation and per model, and gives the same text without it', async () => {
    const dir = tempDir();
    writeTinyLlm(join(dir, 'tiny'), { seed: 2 });
    const system = 'You are one voice of a panel of agents, and every message you get is journaled. ';
    const texts: string[][] = [];
    for (const prefixCache of [true, false]) {
      const spec = writeSystem(
        {
          models: [{ name: 'llm', type: 'llm', path: './tiny', prefixCache }],
          agents: [{ name: 'proxy', module: agentModule('proxy'), models: ['llm'] }],
        },
        dir,
      );
      const seen = deliveries();
      let asked = 0;
      const run = startRun(spec, {
        onBatch: seen.onBatch,
        // The second request goes once the first is done, so the first filled the cache.
        onEvent: (event) => {
          if (event.type === 'generation.done' && ++asked === 1)
            run.runtime.inject('proxy', 'forward', ask({ prompt: `${system}Why?`, maxNewTokens: 8 }));
        },
      });
      run.runtime.inject('proxy', 'forward', ask({ prompt: `${system}What is a tick?`, maxNewTokens: 8 }));
      const summary = await run.done;
      expect(summary.ok).toBe(true);
      const [first] = seen.done('proxy#1');
      const [second] = seen.done('proxy#2');
      texts.push([first?.text ?? '', second?.text ?? '']);
      const generated = run.events.filter((event) => event.type === 'generation.done');
      expect(generated).toHaveLength(2);
      if (prefixCache) {
        expect(first?.cachedPromptTokens).toBe(0);
        expect(second?.cachedPromptTokens).toBeGreaterThanOrEqual(16);
        expect(generated[1]).toMatchObject({
          model: 'llm',
          request: 'proxy#2',
          cachedPromptTokens: second?.cachedPromptTokens,
        });
        const prompts = summary.models?.[0]?.prompts;
        expect(prompts?.cachedPromptTokens).toBe(second?.cachedPromptTokens);
        expect(prompts?.promptTokens).toBe((first?.promptTokens ?? 0) + (second?.promptTokens ?? 0));
        expect(prompts?.cacheBytes).toBeGreaterThan(0);
      } else {
        expect(second?.cachedPromptTokens).toBe(0);
        expect(summary.models?.[0]?.prompts).toMatchObject({ cachedPromptTokens: 0, cacheBytes: 0 });
      }
    }
    expect(texts[0]).toEqual(texts[1]);
  });

  it('gives the same sampled text for the same seed in another run, whatever runs beside it', async () => {
    const dir = tempDir();
    writeTinyLlm(join(dir, 'tiny'), { seed: 2 });
    const sampled = ask({
      prompt: 'Local models',
      maxNewTokens: 16,
      temperature: 0.9,
      topK: 40,
      topP: 0.9,
      seed: 42,
    });
    const texts: string[] = [];
    for (const company of [0, 2]) {
      const seen = deliveries();
      const run = startRun(llmSystem(dir), { onBatch: seen.onBatch });
      run.runtime.inject('proxy', 'forward', sampled);
      for (let i = 0; i < company; i++)
        run.runtime.inject('other', 'forward', ask({ prompt: `Agents ${i}`, maxNewTokens: 12 }));
      await run.done;
      texts.push(seen.done('proxy#1')[0]?.text ?? 'missing');
    }
    expect(texts[1]).toBe(texts[0]);
    expect(texts[0]).not.toBe('missing');
  });

  it('cancels a generation for the agent that asked, and refuses to cancel another agent\u2019s', async () => {
    const dir = tempDir();
    writeTinyLlm(join(dir, 'tiny'), { seed: 2 });
    const seen = deliveries();
    let cancelled = false;
    const run = startRun(llmSystem(dir), {
      onBatch: (tick, agent, envelopes) => {
        seen.onBatch(tick, agent, envelopes);
        if (
          !cancelled &&
          envelopes.some((e) => e.kind === GENERATE_TOKEN_KIND && e.correlationId === 'proxy#1')
        ) {
          cancelled = true;
          run.runtime.inject(
            'other',
            'forward-reply',
            forward('@gpu/llm', new Uint8Array(), GENERATE_CANCEL_KIND, 'proxy#1'),
          );
          run.runtime.inject(
            'proxy',
            'forward-reply',
            forward('@gpu/llm', new Uint8Array(), GENERATE_CANCEL_KIND, 'proxy#1'),
          );
        }
      },
    });
    run.runtime.inject('proxy', 'forward', ask({ prompt: 'The writer', maxNewTokens: 400 }));
    await run.done;
    const [done] = seen.done('proxy#1');
    expect(done?.stopReason).toBe('cancelled');
    expect(done?.generatedTokens).toBeLessThan(400);
    expect(seen.errors('other#1').map((error) => error.message)).toEqual([
      '"other" may cancel only its own generations (got "proxy#1")',
    ]);
  });

  it('lets an agent built with the SDK cancel its own generation by the request id in a token', async () => {
    const dir = tempDir();
    // A wider model, and no end token: the generation runs 400 tokens unless it is cancelled.
    writeTinyLlm(join(dir, 'tiny'), { seed: 2, hidden: 256, heads: 8, layers: 4 });
    writeFileSync(join(dir, 'tiny', 'generation_config.json'), '{"eos_token_id": []}');
    writeFileSync(
      join(dir, 'tiny', 'config.json'),
      JSON.stringify({ vocab_size: 335, max_position_embeddings: 512 }),
    );
    const spec = writeSystem(
      {
        models: [{ name: 'tiny', type: 'llm', path: './tiny' }],
        agents: [
          {
            name: 'moderator',
            module: agentModule('chatter'),
            init: 'model=tiny; role=moderator; rounds=1; maxTokens=400; cancelAfter=3',
            restart: 'transient',
            models: ['tiny'],
          },
        ],
      },
      dir,
    );
    const run = startRun(spec);
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    const said = run.events.flatMap((event) => (event.type === 'agent.log' ? [event.text] : []));
    const line = said.find((text) => text.startsWith('moderator ('));
    expect(line).toMatch(/^moderator \((\d+) tokens, cancelled\)/);
    expect(Number(/\((\d+) tokens/.exec(line ?? '')?.[1])).toBeLessThan(400);
  });

  it('names the missing or wrong piece of a malformed model folder', async () => {
    const dir = tempDir();
    writeTinyLlm(join(dir, 'tiny'), { seed: 2 });
    cpSync(join(dir, 'tiny'), join(dir, 'no-tokenizer'), { recursive: true });
    rmSync(join(dir, 'no-tokenizer', 'tokenizer.json'));
    cpSync(join(dir, 'tiny'), join(dir, 'not-a-decoder'), { recursive: true });
    writeFileSync(
      join(dir, 'not-a-decoder', 'onnx', 'model.onnx'),
      buildMlp({ inputs: 4, hidden: [4], outputs: 2 }),
    );
    const failures: Array<Extract<RuntimeEvent, { type: 'model.failed' }>> = [];
    for (const folder of ['no-tokenizer', 'not-a-decoder']) {
      const seen = deliveries();
      const run = startRun(llmSystem(dir, folder), {
        onBatch: seen.onBatch,
        onEvent: (event) => {
          if (event.type === 'model.failed') failures.push(event);
        },
      });
      run.runtime.inject('proxy', 'forward', ask({ prompt: 'Hi', maxNewTokens: 4 }));
      const summary = await run.done;
      expect(summary.ok).toBe(true);
      expect(seen.errors('proxy#1').map((error) => InferenceErrorCode[error.code])).toEqual([
        'MODEL_UNAVAILABLE',
      ]);
    }
    expect(failures.map((failure) => failure.reason)).toEqual([
      expect.stringMatching(/no-tokenizer: tokenizer\.json is missing \(the tokenizer\)/),
      expect.stringMatching(/not-a-decoder\/onnx\/model\.onnx has no input named "input_ids" \(inputs: x\)/),
    ]);
  });

  it('answers a generation cut by a killed GPU host with a clear error, and serves the next one', async () => {
    const dir = tempDir();
    writeTinyLlm(join(dir, 'tiny'), { seed: 2 });
    const seen = deliveries();
    let killed = false;
    const run = startRun(llmSystem(dir), {
      onBatch: (tick, agent, envelopes) => {
        seen.onBatch(tick, agent, envelopes);
        if (!killed && envelopes.some((envelope) => envelope.kind === GENERATE_TOKEN_KIND)) {
          killed = true;
          process.kill(gpuHostPid() as number, 'SIGKILL');
        }
        if (envelopes.some((envelope) => envelope.kind === INFER_ERROR_KIND)) {
          run.runtime.inject('proxy', 'forward', ask({ prompt: 'Again', maxNewTokens: 5 }));
        }
      },
    });
    run.runtime.inject('proxy', 'forward', ask({ prompt: 'The writer', maxNewTokens: 400 }));
    const summary = await run.done;
    expect(killed).toBe(true);
    const errors = seen.errors('proxy#1');
    const finished = seen.done('proxy#1');
    // The kill lands mid-generation (an error) or, on a slow machine, after it ended (done): never neither.
    expect(errors.length + finished.length).toBe(1);
    if (errors.length === 1) {
      expect(InferenceErrorCode[errors[0]?.code as number]).toBe('INTERRUPTED');
      expect(errors[0]?.message).toMatch(/the GPU host died during the generation .*send the request again/);
      expect(seen.done('proxy#2')[0]).toMatchObject({ generatedTokens: 5, stopReason: 'max_tokens' });
    }
    expect(summary.ok).toBe(true);
  });
});
