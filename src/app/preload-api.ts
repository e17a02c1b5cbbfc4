// What the preload exposes to the page, built from the IPC renderer it is given: subscribe to
// snapshots and send a command, on the two channels main.ts serves. Nothing else.
import type { IpcRenderer } from 'electron';
import type { AgentDetail, Command, ServerMessage } from '../dashboard/wire.js';

export interface TroupeWindowApi {
  subscribe(listener: (message: ServerMessage) => void): void;
  command(command: Command): Promise<string | undefined>;
  /** A command answered in full: the refusal, or what it asked to see (`detail`). */
  request(command: Command): Promise<{ error?: string; detail?: AgentDetail }>;
}

export const CHANNELS = {
  message: 'troupe:message',
  subscribe: 'troupe:subscribe',
  command: 'troupe:command',
} as const;

export function preloadApi(ipc: Pick<IpcRenderer, 'on' | 'send' | 'invoke'>): TroupeWindowApi {
  return {
    subscribe(listener) {
      ipc.on(CHANNELS.message, (_event, message: ServerMessage) => listener(message));
      ipc.send(CHANNELS.subscribe);
    },
    async command(command) {
      const result: unknown = await ipc.invoke(CHANNELS.command, command);
      return typeof result === 'string' ? result : (result as { error?: string } | undefined)?.error;
    },
    async request(command) {
      const result: unknown = await ipc.invoke(CHANNELS.command, command);
      return typeof result === 'string' ? { error: result } : ((result ?? {}) as { error?: string });
    },
  };
}
