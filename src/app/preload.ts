// The one preload: a narrow, typed API for the supervisor window (subscribe to snapshots, send a
// command). Nothing else of Electron or Node reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import type { Command, ServerMessage } from '../dashboard/wire.js';

contextBridge.exposeInMainWorld('troupe', {
  subscribe(listener: (message: ServerMessage) => void): void {
    ipcRenderer.on('troupe:message', (_event, message: ServerMessage) => listener(message));
    ipcRenderer.send('troupe:subscribe');
  },
  command(command: Command): Promise<string | undefined> {
    return ipcRenderer.invoke('troupe:command', command);
  },
});
