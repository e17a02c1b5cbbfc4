// What the preload exposes to the page, built from the IPC renderer it is given: subscribe to
// snapshots and send a command, on the two channels main.ts serves. Nothing else.
import type { IpcRenderer } from 'electron';
import type { Command, ServerMessage } from '../dashboard/wire.js';

export interface TroupeWindowApi {
  subscribe(listener: (message: ServerMessage) => void): void;
  command(command: Command): Promise<string | undefined>;
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
    command(command) {
      return ipc.invoke(CHANNELS.command, command);
    },
  };
}
