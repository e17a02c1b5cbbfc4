// What a streamed chat completion comes to: the chunks' text pieces, tool calls put together from
// their parts, the finish reason and the token counts. Pure: fed the SSE events' data, one at a time.

export interface ModelToolCallOut {
  id: string;
  name: string;
  arguments: string;
}

export type ChunkOutcome =
  /** Text the model added (may be empty), or nothing to show. */
  | { type: 'text'; text: string }
  | { type: 'none' }
  /** `[DONE]`: the answer is complete. */
  | { type: 'done' }
  /** The server reported an error in the stream, or sent something that is not a chunk. */
  | { type: 'error'; message: string };

export class ChatStream {
  finishReason = '';
  promptTokens = 0;
  completionTokens: number | undefined;
  /** Chunks that carried text. */
  pieces = 0;
  /** Characters of text and tool arguments received, to bound what one answer may hold. */
  size = 0;
  readonly #calls: ModelToolCallOut[] = [];

  /** Takes one event's data. */
  take(data: string): ChunkOutcome {
    if (data.trim() === '[DONE]') return { type: 'done' };
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      return { type: 'error', message: `the server sent an event that is not JSON: ${excerpt(data)}` };
    }
    if (typeof chunk !== 'object' || chunk === null)
      return { type: 'error', message: `the server sent an event that is not a chunk: ${excerpt(data)}` };
    if (chunk.error !== undefined) return { type: 'error', message: errorMessage(chunk.error) };
    if (chunk.usage) {
      this.promptTokens = chunk.usage.prompt_tokens ?? this.promptTokens;
      this.completionTokens = chunk.usage.completion_tokens ?? this.completionTokens;
    }
    const choice = chunk.choices?.[0];
    if (!choice) return { type: 'none' };
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    // A server that ignores `stream` sends one whole completion: its message is the delta.
    const delta = choice.delta ?? choice.message ?? {};
    for (const part of delta.tool_calls ?? []) this.#addCallPart(part);
    const text = typeof delta.content === 'string' ? delta.content : '';
    if (text === '') return { type: 'none' };
    this.pieces++;
    this.size += text.length;
    return { type: 'text', text };
  }

  get toolCalls(): ModelToolCallOut[] {
    return this.#calls.filter((call) => call.name !== '');
  }

  /** The stop reason Troupe reports for the server's finish reason. */
  stopReason(): string {
    if (this.finishReason === 'stop') return 'eos';
    if (this.finishReason === 'length') return 'max_tokens';
    return this.finishReason || 'eos';
  }

  #addCallPart(part: ToolCallPart): void {
    const index = typeof part.index === 'number' ? part.index : this.#calls.length;
    const call = this.#calls[index] ?? { id: '', name: '', arguments: '' };
    this.#calls[index] = call;
    if (part.id) call.id = part.id;
    if (part.function?.name) call.name += part.function.name;
    if (part.function?.arguments) {
      call.arguments += part.function.arguments;
      this.size += part.function.arguments.length;
    }
  }
}

/** The error a server put in a body or an event: OpenAI's `{ error: { message } }` or a string. */
export function errorMessage(error: unknown): string {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : excerpt(JSON.stringify(error) ?? String(error));
}

export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

interface ToolCallPart {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface Chunk {
  error?: unknown;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  choices?: Array<{
    finish_reason?: string | null;
    delta?: { content?: unknown; tool_calls?: ToolCallPart[] };
    message?: { content?: unknown; tool_calls?: ToolCallPart[] };
  }>;
}
