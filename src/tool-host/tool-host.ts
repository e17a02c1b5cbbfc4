// The tool host's work: starts the declared MCP servers, calls their tools with each server's
// concurrency bound (more calls wait their turn), answers every call exactly once, and starts a
// server that ended again (its calls in flight are answered LOST, never retried: a tool may have
// acted). Commands in, events out; the process wiring is serve-tools.ts.
import type { ToolCommand, ToolEvent, ToolServerWire } from '../protocol/index.js';
import type { ToolServerSpec } from '../supervisor/config/index.js';
import { type CallOutcome, McpServer } from './mcp-server.js';

/** A server ended: it is started again after this (doubling up to the cap while it keeps ending). */
const RESTART_DELAY_MS = { first: 100, cap: 5000 };

interface Call {
  id: string;
  tool: string;
  args: Record<string, unknown>;
}

interface Server {
  spec: ToolServerSpec;
  /** Calls wait while it starts or restarts; a server whose start failed answers them at once. */
  state: 'starting' | 'running' | 'restarting' | 'failed';
  /** Why its start failed. */
  failure?: string;
  mcp?: McpServer;
  running: number;
  waiting: Call[];
  restarts: number;
  delayMs: number;
}

export class ToolHost {
  readonly #send: (events: ToolEvent[]) => void;
  readonly #exit: () => void;
  readonly #servers = new Map<string, Server>();
  #stopping = false;

  constructor(send: (events: ToolEvent[]) => void, exit: () => void) {
    this.#send = send;
    this.#exit = exit;
  }

  handle(command: ToolCommand): void {
    if (command.start) for (const wire of command.start.servers ?? []) this.#add(specOf(wire));
    else if (command.call) this.#call(command.call);
    else if (command.stop) void this.#stop();
  }

  #add(spec: ToolServerSpec): void {
    const server: Server = {
      spec,
      state: 'starting',
      running: 0,
      waiting: [],
      restarts: 0,
      delayMs: RESTART_DELAY_MS.first,
    };
    this.#servers.set(spec.name, server);
    void this.#start(server);
  }

  async #start(server: Server): Promise<void> {
    try {
      const mcp = await McpServer.connect(server.spec);
      if (this.#stopping) {
        await mcp.close();
        return;
      }
      const tools = await mcp.listTools();
      server.mcp = mcp;
      server.state = 'running';
      mcp.onDeath((reason) => this.#ended(server, mcp, reason));
      this.#send([
        {
          ready: {
            server: server.spec.name,
            tools: tools.map((tool) => ({ ...tool, inputSchema: JSON.stringify(tool.inputSchema) })),
            pid: mcp.pid ?? 0,
            restarts: server.restarts,
          },
        },
      ]);
      this.#next(server);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      server.state = 'failed';
      server.failure = reason;
      this.#send([{ failed: { server: server.spec.name, reason } }]);
      // Calls waiting for it cannot be made: each is answered now.
      for (const call of server.waiting.splice(0)) this.#answer(server, call.id, failed('FAILED', reason));
    }
  }

  #ended(server: Server, mcp: McpServer, reason: string): void {
    if (server.mcp !== mcp || this.#stopping) return;
    server.mcp = undefined;
    server.state = 'restarting';
    const why = `tool server "${server.spec.name}" ended (${reason}); it is being started again`;
    this.#send([{ failed: { server: server.spec.name, reason: why } }]);
    const delay = server.delayMs;
    server.delayMs = Math.min(server.delayMs * 2, RESTART_DELAY_MS.cap);
    server.restarts++;
    setTimeout(() => {
      if (!this.#stopping) void this.#start(server);
    }, delay).unref();
  }

  #call(call: {
    id?: string | null;
    server?: string | null;
    tool?: string | null;
    arguments?: string | null;
  }): void {
    const id = call.id ?? '';
    const server = this.#servers.get(call.server ?? '');
    if (!server) {
      const message = `no tool server named "${call.server ?? ''}"`;
      this.#send([
        { answer: { id, server: call.server ?? '', errorCode: 'UNKNOWN_SERVER', errorMessage: message } },
      ]);
      return;
    }
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(call.arguments || '{}');
      if (typeof args !== 'object' || args === null || Array.isArray(args))
        throw new Error('not a JSON object');
    } catch (error) {
      const message = `the arguments of "${server.spec.name}/${call.tool ?? ''}" are not a JSON object: ${(error as Error).message}`;
      this.#answer(server, id, failed('TOOL_ERROR', message));
      return;
    }
    if (server.state === 'failed') {
      const message = `tool server "${server.spec.name}" is not running: ${server.failure ?? ''}`;
      this.#answer(server, id, failed('FAILED', message));
      return;
    }
    server.waiting.push({ id, tool: call.tool ?? '', args });
    this.#next(server);
  }

  /** Starts waiting calls while the server runs and has room. */
  #next(server: Server): void {
    const mcp = server.mcp;
    while (mcp && server.running < server.spec.maxConcurrent && server.waiting.length > 0) {
      const call = server.waiting.shift() as Call;
      server.running++;
      void mcp.call(call.tool, call.args).then((outcome) => {
        server.running--;
        if (outcome.ok) server.delayMs = RESTART_DELAY_MS.first;
        this.#answer(server, call.id, outcome);
        this.#next(server);
      });
    }
  }

  #answer(server: Server, id: string, outcome: CallOutcome): void {
    const answer = outcome.ok
      ? { id, server: server.spec.name, result: outcome.result }
      : { id, server: server.spec.name, errorCode: outcome.code, errorMessage: outcome.message };
    this.#send([{ answer }]);
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#servers.values()].map((server) => server.mcp?.close()));
    this.#exit();
  }
}

function failed(code: 'FAILED' | 'TOOL_ERROR', message: string): CallOutcome {
  return { ok: false, code, message };
}

/** A server as the supervisor sent it. */
export function specOf(wire: ToolServerWire): ToolServerSpec {
  const bounds = {
    timeoutMs: wire.timeoutMs ?? 0,
    maxAnswerBytes: Number(wire.maxAnswerBytes ?? 0),
    maxConcurrent: Math.max(1, wire.maxConcurrent ?? 1),
  };
  const name = wire.name ?? '';
  if (wire.url) return { name, transport: { type: 'http', url: wire.url }, ...bounds };
  return {
    name,
    transport: {
      type: 'stdio',
      command: wire.command ?? '',
      args: wire.args ?? [],
      env: { ...(wire.env ?? {}) },
      cwd: wire.cwd ?? '',
    },
    ...bounds,
  };
}
