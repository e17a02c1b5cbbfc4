// The tool host as the core drives it (issue 28), like the GPU host: a `spawnTools` effect starts
// it, its frames and exit come in, bytes go out. It owns the calls in flight, each answered once:
// by the tool host, or LOST when the host dies holding it (a call is never made twice: a tool may
// have acted). What its death comes to is decided by the supervision tree.
import type { ExitInfo } from '../../launch/index.js';
import {
  decodeToolCall,
  decodeToolFrame,
  encodeToolFrame,
  type ToolAnswerWire,
  type ToolServerWire,
} from '../../protocol/index.js';
import type { ToolServerSpec } from '../config/index.js';
import type { Effect, HostRef, TimerRef } from './core-io.js';
import { describeExit } from './exit-reason.js';
import { type ServiceIo, ServiceLifecycle, type ServiceOutcome } from './service-io.js';

/** How long a stopping tool host has to close its servers and exit before it is killed. */
const TOOLS_STOP_TIMEOUT_MS = 5000;

/** A call in flight: its id is the calling envelope's (answers correlate to it). */
export interface ToolCall {
  id: string;
  server: string;
  /** The call's payload: `{ "tool", "arguments" }` as JSON. */
  payload: Uint8Array;
}

/** The answer to a call: the tool's result (JSON), or an error code and message. */
export interface ToolAnswer {
  call: ToolCall;
  result?: string;
  error?: { code: string; message: string };
}

export class ToolHosting {
  readonly #servers: readonly ToolServerWire[];
  readonly #io: ServiceIo;
  readonly #life: ServiceLifecycle;
  /** Calls not yet answered, in the order they were made; `sent` once the tool host has them. */
  readonly #pending = new Map<string, { call: ToolCall; sent: boolean }>();

  /** `enabled`: whether a tool host runs (none without tool servers, or in a pure replay). */
  constructor(servers: readonly ToolServerWire[], enabled: boolean, io: ServiceIo) {
    this.#servers = servers;
    this.#io = io;
    this.#life = new ServiceLifecycle(enabled && servers.length > 0, io, {
      spawn: (host, restarts) => this.#spawn(host, restarts),
      stopTimeoutMs: TOOLS_STOP_TIMEOUT_MS,
    });
  }

  get enabled(): boolean {
    return this.#life.enabled;
  }

  owns(host: HostRef): boolean {
    return this.#life.owns(host);
  }

  start(): void {
    this.#life.start();
  }

  /** Sends calls to the tool host, in one frame. */
  call(calls: readonly ToolCall[]): void {
    for (const call of calls) this.#pending.set(call.id, { call, sent: false });
    this.#sendWaiting();
  }

  /** Kills the tool host as a crash would (replaying a recorded death). Whether there was one to kill. */
  kill(): boolean {
    return this.#life.kill();
  }

  restart(): void {
    this.#life.restart();
  }

  /** Ends the tool host at shutdown (its servers closed); whether its exit is still to come. */
  stop(): boolean {
    const stop = { stop: { reason: 'the system is stopping' } };
    const waiting = this.#life.stop(encodeToolFrame({ commands: [stop] }));
    if (!waiting) this.#pending.clear();
    return waiting;
  }

  onTimer(timer: TimerRef): boolean {
    return this.#life.onTimer(timer);
  }

  /** A frame from the tool host: the answers it holds (each call's once) and its servers' news. */
  onFrame(host: HostRef, bytes: unknown): ToolAnswer[] {
    if (!this.owns(host)) return [];
    const decoded = decodeToolFrame(bytes);
    if (!decoded.ok) {
      this.#life.fault(host, 'tool-host', decoded.error);
      return [];
    }
    const answers: ToolAnswer[] = [];
    for (const event of decoded.frame.events) {
      if (event.answer) {
        const answer = this.#answer(event.answer);
        if (answer) answers.push(answer);
      } else if (event.ready) {
        const { server = '', tools = [], pid, restarts = 0 } = event.ready;
        const names = (tools ?? []).map((tool) => tool.name ?? '');
        this.#io.emit({
          type: 'tool.ready',
          server: server ?? '',
          tools: names,
          pid: pid ?? 0,
          restarts: restarts ?? 0,
        });
      } else if (event.failed) {
        this.#io.emit({
          type: 'tool.failed',
          server: event.failed.server ?? '',
          reason: event.failed.reason ?? '',
        });
      }
    }
    return answers;
  }

  onOversize(host: HostRef, bytes: number, limit: number): void {
    if (!this.owns(host)) return;
    this.#life.fault(host, 'tool-host', `sent a frame of ${bytes} bytes, above ${limit}`);
  }

  /** The tool host exited: every call it held is answered LOST; a death goes to the tree. */
  onExit(host: HostRef, info: ExitInfo): { outcome?: ServiceOutcome; lost: ToolAnswer[] } {
    if (!this.owns(host)) return { lost: [] };
    const exit = this.#life.exited();
    if (exit === 'stopped') {
      this.#pending.clear();
      return { outcome: { type: 'stopped' }, lost: [] };
    }
    const reason = describeExit(info, 'tool host');
    // Calls it had may have acted: each is answered LOST. Calls it never got go to the next one.
    const lost: ToolAnswer[] = [];
    for (const { call, sent } of [...this.#pending.values()]) {
      if (!sent) continue;
      this.#pending.delete(call.id);
      const message = `the tool host ended during the call (${reason}); it was not retried (the tool may have acted)`;
      lost.push({ call, error: { code: 'LOST', message } });
    }
    if (exit === 'restart') {
      this.#life.respawn();
      return { lost };
    }
    this.#io.emit({ type: 'tools.crashed', reason, restarts: this.#life.restarts });
    return { outcome: { type: 'died', reason }, lost };
  }

  #answer(wire: ToolAnswerWire): ToolAnswer | undefined {
    const call = this.#pending.get(wire.id ?? '')?.call;
    if (!call) return undefined;
    this.#pending.delete(call.id);
    if (wire.errorCode) return { call, error: { code: wire.errorCode, message: wire.errorMessage ?? '' } };
    return { call, result: wire.result ?? '' };
  }

  #spawn(host: HostRef, restarts: number): void {
    this.#io.push({ type: 'spawnTools', host, restarts } satisfies Effect);
    const start = { start: { servers: [...this.#servers] } };
    this.#io.push({ type: 'send', host, bytes: encodeToolFrame({ commands: [start] }) });
    this.#sendWaiting();
  }

  /** Calls the tool host does not have yet go to it (if it is up), in one frame. */
  #sendWaiting(): void {
    const host = this.#life.host;
    if (host === undefined) return;
    const waiting = [...this.#pending.values()].filter((pending) => !pending.sent);
    if (waiting.length === 0) return;
    for (const pending of waiting) pending.sent = true;
    const commands = waiting.map(({ call: { id, server, payload } }) => {
      const call = decodeToolCall(payload);
      const { tool, arguments: args } = call.ok ? call : { tool: '', arguments: {} };
      this.#io.emit({ type: 'tool.call', id, server, tool });
      return { call: { id, server, tool, arguments: JSON.stringify(args) } };
    });
    this.#io.push({ type: 'send', host, bytes: encodeToolFrame({ commands }) });
  }
}

/** A server as the supervisor sends it. */
export function wireOf(spec: ToolServerSpec): ToolServerWire {
  const { name, timeoutMs, maxAnswerBytes, maxConcurrent, transport } = spec;
  const bounds = { name, timeoutMs, maxAnswerBytes, maxConcurrent };
  if (transport.type === 'http') return { ...bounds, url: transport.url };
  const { command, args, env, cwd } = transport;
  return { ...bounds, command, args: [...args], env: { ...env }, cwd };
}
