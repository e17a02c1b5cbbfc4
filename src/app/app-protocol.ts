// The supervisor window's pages come from a privileged custom scheme, app://troupe/, instead of
// file:// (Electron security checklist item 18): only files inside the renderer bundle are
// served; a path that leaves it, another host or another method is refused. No Electron import:
// the handler takes a fetch Request and returns a Response, so it is tested on Node.
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { CONTENT_TYPES } from '../dashboard/index.js';
import { CONTENT_SECURITY_POLICY } from './window-options.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'troupe';
/** The page the window loads (the packaged app; development uses the Vite dev server). */
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** For protocol.registerSchemesAsPrivileged, before the app is ready. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

/** Answers app://troupe/<path> with the file <root>/<path>, and nothing outside root. */
export function appProtocolHandler(root: string): (request: Request) => Promise<Response> {
  const base = resolve(root);
  return async (request) => {
    const refused = (status: number, why: string) =>
      new Response(`troupe: ${why}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    if (request.method !== 'GET') return refused(405, `${request.method} is not served`);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refused(400, 'not a URL');
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST)
      return refused(403, `${url.protocol}//${url.host} is not this app`);
    const file = bundleFile(base, url.pathname);
    if (!file) return refused(403, `${url.pathname} is outside the app`);
    try {
      if (!(await stat(file)).isFile()) return refused(404, `${url.pathname} not found`);
      const body = await readFile(file);
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          'Content-Security-Policy': CONTENT_SECURITY_POLICY,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch {
      return refused(404, `${url.pathname} not found`);
    }
  };
}

/** The file a URL path names inside `base`, or undefined when it would leave it. */
function bundleFile(base: string, pathname: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  if (path.split('/').some((segment) => segment === '..')) return undefined;
  const file = resolve(base, `.${path === '/' ? '/index.html' : path}`);
  return file.startsWith(base + sep) ? file : undefined;
}
