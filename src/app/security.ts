// The Electron security checklist applied to the session and to every web contents: a CSP on
// every response, permissions neither granted on request nor reported on check, no navigation
// (top frame or sub-frame), no redirects, no new windows, no webviews. Types only from Electron,
// so a test drives it with fakes and checks what each handler does.
import type { App, Session } from 'electron';
import { CONTENT_SECURITY_POLICY } from './window-options.js';

export function applySecurity(session: Session, app: App): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-frame-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}
