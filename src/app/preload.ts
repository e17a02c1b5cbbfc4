// The one preload: the narrow API of preload-api.ts, and nothing else of Electron or Node, reaches
// the page.
import { contextBridge, ipcRenderer } from 'electron';
import { preloadApi } from './preload-api.js';

contextBridge.exposeInMainWorld('troupe', preloadApi(ipcRenderer));
