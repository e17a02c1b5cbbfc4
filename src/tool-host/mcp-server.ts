// One MCP server as the tool host speaks to it (@modelcontextprotocol/sdk): started over stdio
// with an allow-listed environment, or reached over Streamable HTTP; its tools listed and called
// with a timeout and a bound on the answer's bytes.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { errorText } from '../protocol/index.js';
import type { ToolServerSpec } from '../supervisor/config/index.js';

/** A tool as its server describes it. */
export interface ToolInfo {
  name: string;
  description: string;
  /** JSON Schema of its arguments. */
  inputSchema: Record<string, unknown>;
}

/**
 * What a call came to: the server's result (its `CallToolResult` as JSON text), or why there is
 * none. `TOOL_ERROR`: the tool ran and reported an error (MCP's `isError`, unknown tools and bad
 * arguments included), with its text; `LOST`: the server died during the call (it is not
 * retried: the tool may have acted already); `FAILED`: the server broke the call otherwise.
 */
export type CallOutcome =
  | { ok: true; result: string }
  | { ok: false; code: 'TOOL_ERROR' | 'TIMEOUT' | 'TOO_LARGE' | 'FAILED' | 'LOST'; message: string };

/** The last bytes a stdio server wrote to stderr, to say why it failed. */
const STDERR_TAIL = 2048;

export class McpServer {
  readonly spec: ToolServerSpec;
  readonly #client = new Client({ name: 'troupe', version: '0.1.0' });
  readonly #transport: Transport;
  #stderr = '';
  /** Closed by us (close()), or it died. */
  #closed = false;
  #onDeath: ((reason: string) => void) | undefined;

  private constructor(spec: ToolServerSpec, transport: Transport) {
    this.spec = spec;
    this.#transport = transport;
  }

  /** Starts (or reaches) the server and completes MCP's initialisation, within its timeout. */
  static async connect(spec: ToolServerSpec): Promise<McpServer> {
    const server = new McpServer(spec, transportFor(spec));
    if (server.#transport instanceof StdioClientTransport) {
      server.#transport.stderr?.on('data', (chunk: Buffer) => {
        server.#stderr = (server.#stderr + chunk.toString()).slice(-STDERR_TAIL);
      });
    }
    server.#client.onclose = () => {
      if (server.#closed) return;
      server.#closed = true;
      server.#onDeath?.(`it ended${server.#said()}`);
    };
    try {
      await server.#client.connect(server.#transport, { timeout: spec.timeoutMs });
    } catch (error) {
      await server.close();
      throw new Error(`tool server "${spec.name}" did not start: ${errorText(error)}${server.#said()}`);
    }
    return server;
  }

  /** Called once if the server ends without being closed (its process died, its connection broke). */
  onDeath(callback: (reason: string) => void): void {
    this.#onDeath = callback;
  }

  /** Its process id, for a server started over stdio. */
  get pid(): number | undefined {
    return this.#transport instanceof StdioClientTransport ? (this.#transport.pid ?? undefined) : undefined;
  }

  /** Every tool it offers (all pages of the list). */
  async listTools(): Promise<ToolInfo[]> {
    const tools: ToolInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#client.listTools(cursor ? { cursor } : {}, { timeout: this.spec.timeoutMs });
      for (const tool of page.tools)
        tools.push({ name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema });
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /** Calls a tool; its answer (the MCP `CallToolResult` as JSON) is bounded in time and bytes. */
  async call(tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const { timeoutMs, maxAnswerBytes, name } = this.spec;
    let result: unknown;
    try {
      result = await this.#client.callTool({ name: tool, arguments: args }, undefined, {
        timeout: timeoutMs,
      });
    } catch (error) {
      const text = errorText(error);
      if (this.#closed || /Connection closed/i.test(text))
        return {
          ok: false,
          code: 'LOST',
          message: `"${name}/${tool}": the tool server ended during the call${this.#said()}; it was not retried (the tool may have acted)`,
        };
      if (/timed out|timeout/i.test(text))
        return {
          ok: false,
          code: 'TIMEOUT',
          message: `"${name}/${tool}" did not answer within ${timeoutMs} ms (timeoutMs)`,
        };
      return { ok: false, code: 'FAILED', message: `"${name}/${tool}" failed: ${text}${this.#said()}` };
    }
    const json = JSON.stringify(result);
    if ((result as { isError?: boolean }).isError)
      return {
        ok: false,
        code: 'TOOL_ERROR',
        message: `"${name}/${tool}": ${textOf(result).slice(0, 4096)}`,
      };
    const bytes = Buffer.byteLength(json);
    if (bytes > maxAnswerBytes)
      return {
        ok: false,
        code: 'TOO_LARGE',
        message: `"${name}/${tool}" answered ${bytes} bytes, above its maxAnswerBytes ${maxAnswerBytes}`,
      };
    return { ok: true, result: json };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#client.close().catch(() => undefined);
  }

  #said(): string {
    const tail = this.#stderr.trim();
    return tail ? ` (it said: ${tail.split('\n').slice(-3).join(' | ')})` : '';
  }
}

/** The text blocks of a tool's result, joined. */
function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type?: string; text?: string }> }).content ?? [];
  return content
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('\n');
}

function transportFor(spec: ToolServerSpec): Transport {
  const { transport } = spec;
  if (transport.type === 'http') return new StreamableHTTPClientTransport(new URL(transport.url));
  return new StdioClientTransport({
    command: transport.command,
    args: [...transport.args],
    // The safe defaults (HOME, LOGNAME, PATH, SHELL, TERM, USER) and what the system file declares.
    env: { ...getDefaultEnvironment(), ...transport.env },
    cwd: transport.cwd,
    stderr: 'pipe',
  });
}
