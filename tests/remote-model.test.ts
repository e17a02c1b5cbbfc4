// Models behind OpenAI-compatible servers (issue 28): the GPU host process streams a server's
// chat completion as tokens, passes tool definitions and gives tool calls back as data, cuts at stop
// strings, cancels, and answers every failure once with a named error: an error status, a dropped
// connection, a server that never finishes (timeout), a redirect to an undeclared host.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeLauncher } from '../src/launch/index.js';
import {
  type Answer,
  decodeGenerateResult,
  decodeGenerateToken,
  type decodeInferenceError,
  encodeGenerateRequest,
  type GenerateRequest,
  InferenceErrorCode,
} from '../src/protocol/index.js';
import { GpuAlone, loadSystem, type RuntimeEvent, systemClock } from '../src/supervisor/index.js';
import { closeOpenAiServers, type OpenAiServer, startOpenAiServer } from './helpers/openai-server.js';
import { GPU_ENTRY } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

const hosts: GpuAlone[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
  await closeOpenAiServers();
  removeTempDirs();
});

interface Outcome {
  tokens: Array<{ text: string; tokenId: number }>;
  done?: ReturnType<typeof decodeGenerateResult>;
  error?: ReturnType<typeof decodeInferenceError>;
}

/** A GPU host serving the remote models a system file declares (the file is checked as users' are). */
async function serve(models: string, env: Record<string, string> = {}) {
  const root = tempDir();
  const file = join(root, 'remote.system.yaml');
  writeFileSync(
    join(root, 'idle.ts'),
    "import { defineAgent } from 'troupe/agent';\nexport default defineAgent({});\n",
  );
  writeFileSync(file, `name: remote\nmodels:\n${models}\nagents:\n  - { name: idle, module: idle.ts }\n`);
  const spec = loadSystem(file, { root });
  const waiting = new Map<string, { outcome: Outcome; settle: (outcome: Outcome) => void }>();
  const events: RuntimeEvent[] = [];
  const gpu = new GpuAlone({
    launcher: new NodeLauncher(),
    entry: GPU_ENTRY,
    models: spec.models,
    env,
    clock: systemClock,
    onEvent: (event) => events.push(event),
    onAnswer: (id, answer: Answer) => {
      const entry = waiting.get(id);
      if (!entry) throw new Error(`an answer to ${id}, which nothing waits for`);
      const { outcome } = entry;
      if (answer.error) outcome.error = answer.error as Outcome['error'];
      else if (answer.partial) outcome.tokens.push(decodeGenerateToken(answer.result ?? new Uint8Array()));
      else outcome.done = decodeGenerateResult(answer.result ?? new Uint8Array());
      if (!answer.partial) {
        waiting.delete(id);
        entry.settle(outcome);
      }
    },
  });
  hosts.push(gpu);
  gpu.start();
  let next = 0;
  const generate = (model: string, request: GenerateRequest, onSent?: (id: string) => void) =>
    new Promise<Outcome>((settle) => {
      const id = `t#${++next}`;
      waiting.set(id, { outcome: { tokens: [] }, settle });
      gpu.submit([{ id, model, request: encodeGenerateRequest(request) }]);
      onSent?.(id);
    });
  return { gpu, generate, events };
}

const model = (name: string, server: OpenAiServer, served: string, extra = '') =>
  `  - { name: ${name}, type: openai, url: ${server.url}, model: ${served}${extra} }`;

describe('a model behind an OpenAI-compatible server', () => {
  it('streams the answer as tokens that add up to the final text, with the counts the server gave', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    const { generate } = await serve(model('big', server, 'echo'));
    const outcome = await generate('big', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ],
      maxNewTokens: 16,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.done?.text).toBe('You said: hello there');
    expect(outcome.tokens.map((token) => token.text).join('')).toBe(outcome.done?.text);
    expect(outcome.tokens.map((token) => token.tokenId)).toEqual([-1, -1, -1, -1]);
    expect(outcome.done?.stopReason).toBe('eos');
    expect(outcome.done?.promptTokens).toBe(7);
    expect(outcome.done?.generatedTokens).toBe(4);
    // What went out: the declared url's one path, the chat as given, greedy, streamed.
    expect(server.requests).toHaveLength(1);
    const [sent] = server.requests;
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.body).toMatchObject({
      model: 'echo',
      stream: true,
      temperature: 0,
      max_tokens: 16,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ],
    });
    expect(sent?.authorization).toBeUndefined();
  });

  it('passes tool definitions through and gives the tool calls back as data, then takes the answer', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    const { generate } = await serve(model('agentic', server, 'tools'));
    const tools = [
      {
        name: 'read_text_file',
        description: 'Reads a file',
        parameters: JSON.stringify({ type: 'object', properties: { path: { type: 'string' } } }),
      },
    ];
    const first = await generate('agentic', {
      messages: [{ role: 'user', content: 'what do my notes say?' }],
      tools,
      toolChoice: 'auto',
    });
    expect(first.done?.stopReason).toBe('tool_calls');
    expect(first.done?.toolCalls).toEqual([
      { id: 'call_1', name: 'read_text_file', arguments: '{"path":"notes.txt"}' },
    ]);
    expect(server.requests[0]?.body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'read_text_file',
          description: 'Reads a file',
          parameters: { type: 'object', properties: { path: { type: 'string' } } },
        },
      },
    ]);
    expect(server.requests[0]?.body.tool_choice).toBe('auto');
    // The agent ran the tool and sends its answer back.
    const second = await generate('agentic', {
      messages: [
        { role: 'user', content: 'what do my notes say?' },
        { role: 'assistant', content: '', toolCalls: first.done?.toolCalls ?? [] },
        { role: 'tool', content: 'buy milk', toolCallId: 'call_1' },
      ],
      tools,
    });
    expect(second.done?.text).toBe('The tool said: buy milk');
    expect(server.requests[1]?.body.messages).toEqual([
      { role: 'user', content: 'what do my notes say?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'read_text_file', arguments: '{"path":"notes.txt"}' },
          },
        ],
      },
      { role: 'tool', content: 'buy milk', tool_call_id: 'call_1' },
    ]);
  });

  it('cuts the text before a stop string, and no token shows what the final text cuts', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    const { generate } = await serve(model('big', server, 'echo'));
    // The server sends a word at a time: "two " may begin the stop string, so it waits for "three ".
    const outcome = await generate('big', { prompt: 'one two three four', stop: ['two thr', 'xyz'] });
    expect(outcome.done?.stopReason).toBe('stop_string');
    expect(outcome.done?.text).toBe('You said: one ');
    expect(outcome.tokens.map((token) => token.text).join('')).toBe('You said: one ');
  });

  it('answers an error status, a dropped connection and a redirect with REMOTE_FAILED, each once', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    const elsewhere = await startOpenAiServer();
    server.redirectTo = `${elsewhere.url}/chat/completions`;
    const { generate } = await serve(
      [
        model('busy', server, 'error'),
        model('flaky', server, 'drop'),
        model('moved', server, 'redirect'),
      ].join('\n'),
    );
    const [busy, flaky, moved] = await Promise.all([
      generate('busy', { prompt: 'hi' }),
      generate('flaky', { prompt: 'hi' }),
      generate('moved', { prompt: 'hi' }),
    ]);
    expect(busy.error?.code).toBe(InferenceErrorCode.REMOTE_FAILED);
    expect(busy.error?.message).toBe(
      `model "busy": ${server.url}/chat/completions answered 503 Service Unavailable: the model is overloaded`,
    );
    expect(flaky.error?.code).toBe(InferenceErrorCode.REMOTE_FAILED);
    expect(flaky.error?.message).toContain(`the connection to ${server.url}/chat/completions`);
    expect(flaky.tokens.map((token) => token.text).join('')).toBe('half an ');
    expect(moved.error?.code).toBe(InferenceErrorCode.REMOTE_FAILED);
    expect(moved.error?.message).toContain('refused, requests go only to the declared url');
    // The undeclared host was never asked.
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('ends a generation that does not finish within timeoutMs with TIMED_OUT', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    const { generate } = await serve(model('slow', server, 'slow', ', timeoutMs: 200'));
    const outcome = await generate('slow', { prompt: 'hi' });
    expect(outcome.error?.code).toBe(InferenceErrorCode.TIMED_OUT);
    expect(outcome.error?.message).toContain('no complete answer within 200 ms');
    // Whether its first piece came before the timeout depends on this machine's load: not checked.
    expect(outcome.tokens.map((token) => token.text).join('')).toMatch(/^(thinking)?$/);
  });

  it('cancels a generation: its final answer says cancelled, with the text so far', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    const { gpu, generate, events } = await serve(model('slow', server, 'slow'));
    let id = '';
    const outcome = generate('slow', { prompt: 'hi' }, (sent) => {
      id = sent;
    });
    // Cancelled once the server has it.
    await server.received(1);
    gpu.cancel('slow', id);
    const cancelled = await outcome;
    expect(cancelled.done?.stopReason).toBe('cancelled');
    expect(events.some((event) => event.type === 'gpu.crashed')).toBe(false);
  });

  it('sends the API key named by apiKeyEnv, and a model whose key is not set is unavailable', {
    timeout: 30_000,
  }, async () => {
    const server = await startOpenAiServer();
    process.env.TROUPE_TEST_KEY = 'sk-test-123';
    try {
      const { generate } = await serve(
        [
          model('keyed', server, 'echo', ', apiKeyEnv: TROUPE_TEST_KEY'),
          model('keyless', server, 'echo', ', apiKeyEnv: TROUPE_TEST_NO_SUCH_KEY'),
        ].join('\n'),
      );
      const keyed = await generate('keyed', { prompt: 'hi' });
      expect(keyed.done?.text).toBe('You said: hi');
      expect(server.requests[0]?.authorization).toBe('Bearer sk-test-123');
      const keyless = await generate('keyless', { prompt: 'hi' });
      expect(keyless.error?.code).toBe(InferenceErrorCode.MODEL_UNAVAILABLE);
      expect(keyless.error?.message).toContain('TROUPE_TEST_NO_SUCH_KEY is not set');
      expect(server.requests).toHaveLength(1);
    } finally {
      delete process.env.TROUPE_TEST_KEY;
    }
  });

  it('takes a whole JSON answer from a server that ignores streaming', { timeout: 30_000 }, async () => {
    const server = await startOpenAiServer();
    const { generate } = await serve(model('plain', server, 'whole'));
    const outcome = await generate('plain', { prompt: 'hi' });
    expect(outcome.done?.text).toBe('You said: hi');
    expect(outcome.tokens.map((token) => token.text)).toEqual(['You said: hi']);
  });

  it('refuses requests it cannot send, naming the field', { timeout: 30_000 }, async () => {
    const server = await startOpenAiServer();
    const { generate } = await serve(model('big', server, 'echo'));
    const badSchema = await generate('big', {
      prompt: 'hi',
      tools: [{ name: 'broken', parameters: '{not json' }],
    });
    expect(badSchema.error?.code).toBe(InferenceErrorCode.BAD_REQUEST);
    expect(badSchema.error?.message).toBe('model "big": tool "broken": its parameters are not a JSON object');
    const badChoice = await generate('big', { prompt: 'hi', toolChoice: 'fly' });
    expect(badChoice.error?.message).toContain('toolChoice "fly" is not');
    expect(server.requests).toHaveLength(0);
  });
});
