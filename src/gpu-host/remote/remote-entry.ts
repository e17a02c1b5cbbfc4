// A model behind an OpenAI-compatible server (type: openai), as the GPU host serves it: each
// generation is one streamed chat-completions request to the declared url and nowhere else
// (redirects are refused), with its timeout, stop strings and cancellation. Answers come out as
// the same token / done / failed messages a local language model's worker gives.
import { createParser } from 'eventsource-parser';
import { decodeGenerateRequest, errorText, type ModelSpecWire } from '../../protocol/index.js';
import type { ModelInfo } from '../model-info.js';
import type { FromLlmWorker, ProviderSkipped } from '../worker-messages.js';
import { type ChatBody, chatBody } from './chat-request.js';
import { ChatStream, errorMessage, excerpt } from './chat-stream.js';
import { StopScanner } from './stop-scanner.js';

type Generation = Exclude<FromLlmWorker, { type: 'ready' | 'failed' }>;

export interface RemoteEvents {
  ready(entry: RemoteEntry, ready: { provider: string; skipped: ProviderSkipped[]; loadMs: number }): void;
  failed(entry: RemoteEntry, reason: string, skipped: ProviderSkipped[]): void;
  generation(entry: RemoteEntry, message: Generation): void;
}

/** Most characters of text and tool arguments one answer may hold (a server that never stops). */
export const MAX_ANSWER_CHARS = 4 * 1024 * 1024;
/** Most bytes of an error status's body read for its message. */
const MAX_ERROR_BODY = 64 * 1024;

/** Why a generation ended early, given to its AbortController. */
type AbortReason = 'cancelled' | 'timeout' | 'closed' | 'stopped' | 'finished';

class RemoteFailure extends Error {}

export class RemoteEntry {
  readonly spec: ModelSpecWire;
  readonly name: string;
  /** Each request is its own run on the server. */
  readonly batchingOn = false;
  state: 'loading' | 'ready' | 'failed' = 'loading';
  info: ModelInfo | undefined;
  failure: string | undefined;
  held: Array<{ id: string; request: Uint8Array }> = [];
  readonly #events: RemoteEvents;
  readonly #running = new Map<string, AbortController>();
  #runs = 0;
  #key: string | undefined;

  constructor(spec: ModelSpecWire, events: RemoteEvents) {
    this.spec = spec;
    this.name = spec.name ?? '';
    this.#events = events;
    // After the host has put this entry in its table.
    queueMicrotask(() => this.#load());
  }

  get #remote() {
    return this.spec.remote ?? {};
  }

  get #endpoint(): string {
    return `${this.#remote.url ?? ''}/chat/completions`;
  }

  generate(id: string, bytes: Uint8Array): void {
    const decoded = decodeGenerateRequest(bytes);
    const body = decoded.ok ? chatBody(this.#remote.model ?? '', decoded.request) : decoded;
    if (!body.ok) {
      this.#events.generation(this, { type: 'gen-failed', id, code: 'BAD_REQUEST', reason: body.error });
      return;
    }
    void this.#run(id, body.body, decoded.ok ? decoded.request.stop : []);
  }

  cancel(id: string): void {
    this.#running.get(id)?.abort('cancelled' satisfies AbortReason);
  }

  async close(): Promise<void> {
    for (const controller of this.#running.values()) controller.abort('closed' satisfies AbortReason);
  }

  #load(): void {
    const { url, apiKeyEnv } = this.#remote;
    const reason = !url
      ? 'it has no url'
      : apiKeyEnv && process.env[apiKeyEnv] === undefined
        ? `its API key variable ${apiKeyEnv} is not set (the supervisor passes it to the GPU host from its own environment; a GPU host on a cluster node gets none)`
        : undefined;
    if (reason) {
      this.state = 'failed';
      this.failure = reason;
      this.#events.failed(this, reason, []);
      return;
    }
    this.#key = apiKeyEnv ? process.env[apiKeyEnv] : undefined;
    this.info = {
      name: this.name,
      inputs: [],
      outputs: [],
      maxRequestBytes: Number(this.spec.maxRequestBytes || 0),
    };
    this.state = 'ready';
    this.#events.ready(this, { provider: 'openai', skipped: [], loadMs: 0 });
  }

  async #run(id: string, body: ChatBody, stopStrings: readonly string[]): Promise<void> {
    const controller = new AbortController();
    this.#running.set(id, controller);
    const timeoutMs = this.#remote.timeoutMs || 120_000;
    const timer = setTimeout(() => controller.abort('timeout' satisfies AbortReason), timeoutMs);
    const stream = new ChatStream();
    const stops = new StopScanner(stopStrings);
    let index = 0;
    const token = (text: string) =>
      this.#events.generation(this, { type: 'token', id, index: index++, tokenId: -1, text });
    const done = (stopReason: string) => {
      const rest = stops.finish();
      if (rest !== '') token(rest);
      this.#events.generation(this, {
        type: 'done',
        id,
        text: stops.text,
        promptTokens: stream.promptTokens,
        tokenIds: [],
        generatedTokens: stream.completionTokens ?? stream.pieces,
        toolCalls: stopReason === 'cancelled' ? [] : stream.toolCalls,
        stopReason,
        step: ++this.#runs,
        rows: 1,
      });
    };
    const fail = (code: 'TIMED_OUT' | 'REMOTE_FAILED', reason: string) =>
      this.#events.generation(this, { type: 'gen-failed', id, code, reason });
    try {
      const response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.#key ? { authorization: `Bearer ${this.#key}` } : {}),
        },
        body: JSON.stringify(body),
        signal: controller.signal,
        redirect: 'manual',
      });
      await this.#check(response);
      const ended = await this.#read(response, stream, stops, token);
      if (ended === 'stop_string') controller.abort('stopped' satisfies AbortReason);
      done(ended === 'stop_string' ? 'stop_string' : stream.stopReason());
    } catch (error) {
      const why = controller.signal.reason as AbortReason | undefined;
      if (why === 'closed') return;
      if (why === 'cancelled') done('cancelled');
      else if (why === 'timeout')
        fail('TIMED_OUT', `no complete answer within ${timeoutMs} ms (timeoutMs) from ${this.#endpoint}`);
      else if (error instanceof RemoteFailure) fail('REMOTE_FAILED', error.message);
      else fail('REMOTE_FAILED', this.#network(error, stream.pieces));
    } finally {
      clearTimeout(timer);
      this.#running.delete(id);
      // Lets go of a connection whose body was not read to its end (a redirect).
      if (!controller.signal.aborted) controller.abort('finished' satisfies AbortReason);
    }
  }

  /** Refuses a redirect (its target was not declared) and an error status, with the server's words. */
  async #check(response: Response): Promise<void> {
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location') ?? 'somewhere';
      throw new RemoteFailure(
        `${this.#endpoint} redirected to ${location}: refused, requests go only to the declared url`,
      );
    }
    if (response.ok) return;
    const text = await boundedText(response, MAX_ERROR_BODY);
    let detail = excerpt(text);
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (parsed.error !== undefined) detail = errorMessage(parsed.error);
    } catch {}
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new RemoteFailure(`${this.#endpoint} answered ${status}${detail ? `: ${detail}` : ''}`);
  }

  /** Reads the event stream to its end: "complete", or "stop_string" when a stop string cut it. */
  async #read(
    response: Response,
    stream: ChatStream,
    stops: StopScanner,
    token: (text: string) => void,
  ): Promise<'complete' | 'stop_string'> {
    const events: string[] = [];
    const parser = createParser({
      maxBufferSize: MAX_ANSWER_CHARS,
      onEvent: (event) => events.push(event.data),
      // Unknown fields and bad retry values are ignored, as the SSE standard says; a stream that
      // never ends its event is not.
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded')
          events.push(
            JSON.stringify({ error: `the event stream passed ${MAX_ANSWER_CHARS} characters in one event` }),
          );
      },
    });
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      // A server that ignored `stream`: one JSON completion.
      const ended = this.#take([await boundedText(response, MAX_ANSWER_CHARS)], stream, stops, token);
      if (ended) return ended;
    } else {
      const decoder = new TextDecoder();
      for await (const bytes of (response.body ?? []) as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(bytes, { stream: true }));
        const ended = this.#take(events.splice(0), stream, stops, token);
        if (ended) return ended;
      }
    }
    // A stream that ends after the finish reason but without "[DONE]" is complete all the same.
    if (stream.finishReason !== '') return 'complete';
    throw new RemoteFailure(
      `the connection to ${this.#endpoint} ended before the answer did (after ${stream.pieces} pieces of text)`,
    );
  }

  /** Takes events' data in order; says whether the answer ended. */
  #take(
    data: readonly string[],
    stream: ChatStream,
    stops: StopScanner,
    token: (text: string) => void,
  ): 'complete' | 'stop_string' | undefined {
    for (const item of data) {
      const outcome = stream.take(item);
      if (outcome.type === 'error') throw new RemoteFailure(`${this.#endpoint}: ${outcome.message}`);
      if (outcome.type === 'done') return 'complete';
      if (stream.size > MAX_ANSWER_CHARS)
        throw new RemoteFailure(`the answer from ${this.#endpoint} passed ${MAX_ANSWER_CHARS} characters`);
      if (outcome.type !== 'text') continue;
      const shown = stops.push(outcome.text);
      token(shown.text);
      if (shown.stopped) return 'stop_string';
    }
    return undefined;
  }

  #network(error: unknown, pieces: number): string {
    const cause = (error as { cause?: unknown }).cause;
    const why = cause ? errorText(cause) : errorText(error);
    return pieces > 0
      ? `the connection to ${this.#endpoint} failed mid-answer (after ${pieces} pieces of text): ${why}`
      : `could not get an answer from ${this.#endpoint}: ${why}`;
  }
}

async function boundedText(response: Response, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const bytes of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    chunks.push(bytes);
    size += bytes.length;
    if (size >= limit) break;
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}
