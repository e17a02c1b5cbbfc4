// Electron main process: the supervisor window. Thin glue: the runtime, its Electron process
// backend and the dashboard session are the same code the CLI runs on Node.
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, utilityProcess } from 'electron';
import { type DashboardEndpoint, DashboardSession, openTravel } from '../dashboard/index.js';
import { ElectronLauncher } from '../launch/electron-launcher.js';
import { errorText } from '../protocol/index.js';
import { loadSystem, Runtime } from '../supervisor/index.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, APP_URL, appProtocolHandler } from './app-protocol.js';
import { CHANNELS } from './preload-api.js';
import { applySecurity } from './security.js';
import { isTrustedSender, windowOptions } from './window-options.js';

// Set by Electron Forge's Vite plugin.
declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;
declare const MAIN_WINDOW_VITE_NAME: string;

const BUILD = __dirname;
const RENDERER = join(BUILD, `../renderer/${MAIN_WINDOW_VITE_NAME}`);
// Packaged, the window loads app://troupe/ (never file://); developing, the Vite dev server.
const appUrl = MAIN_WINDOW_VITE_DEV_SERVER_URL ? MAIN_WINDOW_VITE_DEV_SERVER_URL : APP_URL;

/** The system to supervise: a *.system.yaml on the command line, else the hello example. */
function systemFile(): string {
  const given = process.argv.slice(1).find((arg) => /\.system\.ya?ml$/.test(arg));
  return given ?? join(app.getAppPath(), 'examples', 'hello', 'hello.system.yaml');
}

function startSession(): DashboardSession {
  const file = systemFile();
  const dashboard = new DashboardSession({
    load: () => loadSystem(file),
    create: (spec, hooks) =>
      new Runtime(spec, {
        launcher: new ElectronLauncher(utilityProcess),
        hostEntry: join(BUILD, 'agent-host.cjs'),
        gpuEntry: join(BUILD, 'gpu-host.cjs'),
        toolEntry: join(BUILD, 'tool-host.cjs'),
        hostEnv: {
          TROUPE_MODEL_WORKER: join(BUILD, 'model-worker.cjs'),
          TROUPE_LLM_WORKER: join(BUILD, 'llm-worker.cjs'),
        },
        cacheDir: join(app.getPath('userData'), 'modules'),
        // forge.config.ts keeps dist/sdk (unpacked): TypeScript agents import it as troupe/agent.
        sdkEntry: join(app.getAppPath(), 'dist', 'sdk', 'index.js').replace('app.asar', 'app.asar.unpacked'),
        onEvent: hooks.onEvent,
        onBatch: hooks.onBatch,
        onRequests: hooks.onRequests,
      }),
  });
  dashboard.start();
  return dashboard;
}

/** Windows showing a recorded run (time travel), by their web contents; the others show the live one. */
const travels = new Map<number, DashboardEndpoint>();

function serve(dashboard: DashboardSession): void {
  const endpoint = (contentsId: number): DashboardEndpoint => travels.get(contentsId) ?? dashboard;
  ipcMain.handle(CHANNELS.command, (event, command: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) return 'refused: not the supervisor window';
    return endpoint(event.sender.id).request(command);
  });
  ipcMain.on(CHANNELS.subscribe, (event) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) return;
    const contents = event.sender;
    const unsubscribe = endpoint(contents.id).subscribe((message) => {
      if (!contents.isDestroyed()) contents.send(CHANNELS.message, message);
    });
    contents.once('destroyed', () => {
      unsubscribe();
      travels.delete(contents.id);
    });
  });
}

function openWindow(travel?: DashboardEndpoint): void {
  const window = new BrowserWindow(windowOptions(join(BUILD, 'preload.cjs')));
  if (travel) travels.set(window.webContents.id, travel);
  window.once('ready-to-show', () => window.show());
  void window.loadURL(appUrl);
}

/** File ▸ Open journal…: the recorded run is replayed once, then moved through in its own window. */
async function openJournal(): Promise<void> {
  const chosen = await dialog.showOpenDialog({
    title: 'Open a Troupe journal',
    properties: ['openFile'],
    filters: [
      { name: 'Troupe journals', extensions: ['journal', 'jnl'] },
      { name: 'All files', extensions: ['*'] },
    ],
  });
  const journal = chosen.filePaths[0];
  if (chosen.canceled || !journal) return;
  try {
    const { session: travel } = await openTravel({
      journal,
      launcher: new ElectronLauncher(utilityProcess),
      hostEntry: join(BUILD, 'agent-host.cjs'),
    });
    openWindow(travel);
  } catch (error) {
    dialog.showErrorBox('The journal cannot be opened', errorText(error));
  }
}

function installMenu(): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      {
        label: 'File',
        submenu: [
          { label: 'Open journal…', accelerator: 'CmdOrCtrl+O', click: () => void openJournal() },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      { role: 'viewMenu' },
      { role: 'windowMenu' },
    ]),
  );
}

app.enableSandbox();
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
void app.whenReady().then(() => {
  protocol.handle(APP_SCHEME, appProtocolHandler(RENDERER));
  applySecurity(session.defaultSession, app);
  const dashboard = startSession();
  serve(dashboard);
  installMenu();
  openWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openWindow();
  });
  app.on('before-quit', (event) => {
    if (dashboardStopped) return;
    event.preventDefault();
    dashboard.stop('the app is quitting');
    void dashboard.done.then(() => {
      dashboardStopped = true;
      app.quit();
    });
  });
});

let dashboardStopped = false;

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
