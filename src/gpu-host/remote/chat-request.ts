// A generation request as the body of an OpenAI chat-completions request (streamed). Pure: what
// cannot be sent is said here, naming the field at fault.
import type { GenerateRequest } from '../../protocol/index.js';

export type ChatBody = Record<string, unknown>;

/** The body for `model` on its server, or why the request cannot go. */
export function chatBody(
  model: string,
  request: GenerateRequest,
): { ok: true; body: ChatBody } | { ok: false; error: string } {
  const turns = request.messages ?? [];
  if (turns.length === 0 && !request.prompt) return { ok: false, error: 'the prompt is empty' };
  if ((request.stopTokenIds ?? []).length > 0)
    return {
      ok: false,
      error:
        'stopTokenIds need a local model: a remote server streams text, not token ids (use stop strings)',
    };
  const tools = [];
  for (const [index, tool] of (request.tools ?? []).entries()) {
    if (!tool.name) return { ok: false, error: `tools[${index}] has no name` };
    const parameters = parseSchema(tool.parameters ?? '');
    if (parameters === undefined)
      return { ok: false, error: `tool "${tool.name}": its parameters are not a JSON object` };
    const described = tool.description ? { description: tool.description } : {};
    tools.push({ type: 'function', function: { name: tool.name, ...described, parameters } });
  }
  const choice = toolChoice(
    request.toolChoice ?? '',
    tools.map((tool) => tool.function.name),
  );
  if (choice.error) return { ok: false, error: choice.error };
  const messages =
    turns.length > 0
      ? turns.map((turn) => ({
          role: turn.role ?? '',
          content: turn.content ?? '',
          ...(turn.toolCallId ? { tool_call_id: turn.toolCallId } : {}),
          ...((turn.toolCalls ?? []).length > 0
            ? {
                tool_calls: (turn.toolCalls ?? []).map((call) => ({
                  id: call.id ?? '',
                  type: 'function',
                  function: { name: call.name ?? '', arguments: call.arguments || '{}' },
                })),
              }
            : {}),
        }))
      : [{ role: 'user', content: request.prompt ?? '' }];
  const body: ChatBody = {
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    // 0 is greedy, as for a local model.
    temperature: request.temperature ?? 0,
    ...(request.maxNewTokens ? { max_tokens: request.maxNewTokens } : {}),
    ...(request.topP ? { top_p: request.topP } : {}),
    ...(request.topK ? { top_k: request.topK } : {}),
    ...(Number(request.seed) ? { seed: Number(request.seed) } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(choice.value !== undefined ? { tool_choice: choice.value } : {}),
  };
  return { ok: true, body };
}

function parseSchema(text: string): object | undefined {
  if (text.trim() === '') return { type: 'object', properties: {} };
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function toolChoice(choice: string, names: readonly string[]): { value?: unknown; error?: string } {
  if (choice === '') return {};
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { value: choice };
  if (names.includes(choice)) return { value: { type: 'function', function: { name: choice } } };
  const known = names.length > 0 ? names.join(', ') : 'none';
  return {
    error: `toolChoice "${choice}" is not "auto", "none", "required" or one of the request's tools (${known})`,
  };
}
