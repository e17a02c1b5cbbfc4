// How the window talks to the supervisor: Electron's preload API when it is there (desktop), or a
// WebSocket to the headless dashboard with the token from the page's URL (browser).
import type { AgentDetail, Command, ServerMessage } from '../dashboard/wire.js';

export interface CommandResult {
  error?: string;
  detail?: AgentDetail;
}

export interface Transport {
  /** Sends a command; resolves with the refusal, or undefined when it was carried out. */
  command(command: Command): Promise<string | undefined>;
  /** Sends a command; resolves with its whole answer (the refusal, or what it asked to see). */
  request(command: Command): Promise<CommandResult>;
  onMessage(listener: (message: ServerMessage) => void): void;
  onStatus(listener: (status: string) => void): void;
}

/** What the Electron preload exposes as `window.troupe` (src/app/preload.ts). */
export interface TroupeBridge {
  subscribe(listener: (message: ServerMessage) => void): void;
  command(command: Command): Promise<string | undefined>;
  request(command: Command): Promise<CommandResult>;
}

export function connect(): Transport {
  const bridge = (window as unknown as { troupe?: TroupeBridge }).troupe;
  return bridge ? desktop(bridge) : browser();
}

function desktop(bridge: TroupeBridge): Transport {
  return {
    command: (command) => bridge.command(command),
    request: (command) => bridge.request(command),
    onMessage: (listener) => bridge.subscribe(listener),
    onStatus: (listener) => listener('desktop'),
  };
}

function browser(): Transport {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const listeners: Array<(message: ServerMessage) => void> = [];
  const statusListeners: Array<(status: string) => void> = [];
  const waiting = new Map<number, (result: CommandResult) => void>();
  let next = 0;
  let socket: WebSocket | undefined;
  const status = (text: string) => {
    for (const listener of statusListeners) listener(text);
  };
  const open = () => {
    const url = `ws://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => status('connected');
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as ServerMessage;
      if (message.type === 'command.result') {
        waiting.get(message.id)?.(message);
        waiting.delete(message.id);
      }
      for (const listener of listeners) listener(message);
    };
    ws.onclose = () => {
      status('disconnected: the supervisor stopped or refused the connection; retrying');
      setTimeout(open, 1000);
    };
  };
  open();
  const request = (command: Command) =>
    new Promise<CommandResult>((resolve) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        resolve({ error: 'not connected to the supervisor' });
        return;
      }
      const id = ++next;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, command }));
    });
  return {
    command: async (command) => (await request(command)).error,
    request,
    onMessage: (listener) => listeners.push(listener),
    onStatus: (listener) => statusListeners.push(listener),
  };
}
