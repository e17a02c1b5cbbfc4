// An OpenAI-compatible chat-completions server for the tests, on 127.0.0.1: the model named in a
// request picks what it does (a streamed echo, tool calls, an error status, a dropped connection,
// an answer that never ends, a redirect, a whole JSON answer). It counts what it was asked.

import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { mcpServer } from './paths.js';

export interface SeenRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model: string;
    messages: Array<{ role: string; content: string; tool_call_id?: string; tool_calls?: unknown[] }>;
    tools?: Array<{ type: string; function: { name: string; description?: string; parameters: unknown } }>;
    [field: string]: unknown;
  };
}

export interface OpenAiServer {
  /** The API base, e.g. http://127.0.0.1:PORT/v1. */
  url: string;
  requests: SeenRequest[];
  /** Where the "redirect" model sends its client. */
  redirectTo: string;
  /** Resolves once the server has received `count` requests in all. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

const servers = new Set<Server>();

/** Starts a server on a free loopback port. */
export async function startOpenAiServer(): Promise<OpenAiServer> {
  const requests: SeenRequest[] = [];
  const state = { redirectTo: 'http://127.0.0.1:9/v1/chat/completions' };
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const seen = (request: SeenRequest) => {
    requests.push(request);
    for (const waiter of waiters.filter((waiter) => requests.length >= waiter.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const server = createServer((req, res) => void answer(req, res, seen, state.redirectTo));
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get redirectTo() {
      return state.redirectTo;
    },
    set redirectTo(url: string) {
      state.redirectTo = url;
    },
    received: (count) =>
      new Promise((resolve) => {
        if (requests.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    close: () => closeServer(server),
  };
}

/** Ends every server the tests started (afterEach). */
export async function closeOpenAiServers(): Promise<void> {
  await Promise.all([...servers].map(closeServer));
}

function closeServer(server: Server): Promise<void> {
  servers.delete(server);
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  seen: (request: SeenRequest) => void,
  redirectTo: string,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SeenRequest['body'];
  seen({ path: req.url ?? '', authorization: req.headers.authorization, body });
  if (req.url !== '/v1/chat/completions')
    return json(res, 404, { error: { message: `no route ${req.url}` } });
  const last = body.messages.at(-1);
  switch (body.model) {
    case 'error':
      return json(res, 503, { error: { message: 'the model is overloaded' } });
    case 'redirect':
      res.writeHead(307, { location: redirectTo }).end();
      return;
    case 'whole':
      return json(res, 200, {
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: reply(last) } }],
        usage: { prompt_tokens: 3, completion_tokens: 2 },
      });
    case 'tools':
      if (last?.role === 'tool') return stream(res, words(`The tool said: ${last.content}`), 'stop');
      return toolCalls(res, body.tools?.[0]?.function.name ?? 'none');
    case 'drop':
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event({ choices: [{ index: 0, delta: { content: 'half ' } }] }));
      res.write(event({ choices: [{ index: 0, delta: { content: 'an ' } }] }), () => res.socket?.destroy());
      return;
    case 'slow':
      // Starts, then never says more: the client's timeout ends it (or the test closes the server).
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event({ choices: [{ index: 0, delta: { content: 'thinking' } }] }));
      return;
    default:
      return stream(res, words(reply(last)), 'stop');
  }
}

function reply(last: { content: string } | undefined): string {
  return `You said: ${last?.content ?? ''}`;
}

/** The text in pieces of one word each (with its following space). */
function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function stream(res: ServerResponse, pieces: readonly string[], finish: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  // What some servers send besides data: a comment (a keep-alive) and a field SSE does not define.
  res.write(': keep-alive\n\nx-served-by: test\n\n');
  res.write(event({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }));
  for (const content of pieces) res.write(event({ choices: [{ index: 0, delta: { content } }] }));
  res.write(event({ choices: [{ index: 0, delta: {}, finish_reason: finish }] }));
  res.write(event({ choices: [], usage: { prompt_tokens: 7, completion_tokens: pieces.length } }));
  res.end('data: [DONE]\n\n');
}

/** One call of `name` whose arguments come in two parts, as servers stream them. */
function toolCalls(res: ServerResponse, name: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const part = (fields: object) =>
    event({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...fields }] } }] });
  res.write(part({ id: 'call_1', type: 'function', function: { name, arguments: '' } }));
  res.write(part({ function: { arguments: '{"path":' } }));
  res.write(part({ function: { arguments: '"notes.txt"}' } }));
  res.write(event({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }));
  res.end('data: [DONE]\n\n');
}

function event(data: object): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * A project whose one agent (`source`, TypeScript) may ask `agentic` (the server's "tools" model)
 * and read files through the filesystem MCP server, with notes.txt to read: its system file.
 */
export function assistantProject(root: string, server: OpenAiServer, source: string, name: string): string {
  writeFileSync(join(root, 'notes.txt'), 'buy milk\n');
  writeFileSync(join(root, 'assistant.ts'), source);
  const file = join(root, `${name}.system.yaml`);
  writeFileSync(
    file,
    `name: ${name}
models:
  - { name: agentic, type: openai, url: ${server.url}, model: tools }
tools:
  - name: fs
    mcp: { command: ${process.execPath}, args: [${mcpServer('filesystem')}, "."] }
agents:
  - name: assistant
    module: assistant.ts
    capabilities: { models: [agentic], tools: [fs/read_text_file] }
`,
  );
  return file;
}
