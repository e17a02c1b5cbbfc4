// Electron main process: the supervisor window. Thin glue: the runtime, its Electron process
// backend and the dashboard session are the same code the CLI runs on Node.
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, protocol, session, utilityProcess } from 'electron';
import { DashboardSession } from '../dashboard/index.js';
import { ElectronLauncher } from '../launch/electron-launcher.js';
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
        hostEnv: {
          TROUPE_MODEL_WORKER: join(BUILD, 'model-worker.cjs'),
          TROUPE_LLM_WORKER: join(BUILD, 'llm-worker.cjs'),
        },
        cacheDir: join(app.getPath('userData'), 'modules'),
        // forge.config.ts keeps dist/sdk (unpacked): TypeScript agents import it as troupe/agent.
        sdkEntry: join(app.getAppPath(), 'dist', 'sdk', 'index.js').replace('app.asar', 'app.asar.unpacked'),
        onEvent: hooks.onEvent,
        onBatch: hooks.onBatch,
      }),
  });
  dashboard.start();
  return dashboard;
}

function serve(dashboard: DashboardSession): void {
  ipcMain.handle(CHANNELS.command, (event, command: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) return 'refused: not the supervisor window';
    return dashboard.request(command);
  });
  ipcMain.on(CHANNELS.subscribe, (event) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) return;
    const contents = event.sender;
    const unsubscribe = dashboard.subscribe((message) => {
      if (!contents.isDestroyed()) contents.send(CHANNELS.message, message);
    });
    contents.once('destroyed', unsubscribe);
  });
}

function openWindow(): void {
  const window = new BrowserWindow(windowOptions(join(BUILD, 'preload.cjs')));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(appUrl);
}

app.enableSandbox();
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
void app.whenReady().then(() => {
  protocol.handle(APP_SCHEME, appProtocolHandler(RENDERER));
  applySecurity(session.defaultSession, app);
  const dashboard = startSession();
  serve(dashboard);
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
