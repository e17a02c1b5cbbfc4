// The supervisor window's security settings, kept apart from Electron so a test can check them as
// written (Electron cannot run on the build machines). Only types come from Electron here.
import type { BrowserWindowConstructorOptions } from 'electron';

/** The renderer's Content Security Policy: our own bundle only, no inline code, no remote content. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 860,
    minWidth: 900,
    minHeight: 500,
    title: 'Troupe supervisor',
    backgroundColor: '#0f1419',
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/**
 * Whether an IPC message comes from our own window's page: the dev server's origin while
 * developing, the packaged app://troupe/index.html otherwise. Anything else (another frame, a
 * navigated page, a file:// page) is refused.
 */
export function isTrustedSender(senderUrl: string | undefined, appUrl: string): boolean {
  if (!senderUrl) return false;
  let sender: URL;
  let app: URL;
  try {
    sender = new URL(senderUrl);
    app = new URL(appUrl);
  } catch {
    return false;
  }
  if (app.protocol === 'http:' || app.protocol === 'https:') return sender.origin === app.origin;
  // A custom scheme has no web origin in Node's URL ("null"): compare its parts.
  return sender.protocol === app.protocol && sender.host === app.host && sender.pathname === app.pathname;
}
