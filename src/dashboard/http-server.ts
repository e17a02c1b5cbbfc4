// The headless dashboard: the supervisor window's UI bundle served on 127.0.0.1 only, over HTTP
// and a WebSocket, behind a random token. A request without the token (or its cookie), with a
// wrong one, from another origin or for another host name is refused.
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { nanoid } from 'nanoid';
import { type WebSocket, WebSocketServer } from 'ws';
import { errorText } from '../protocol/index.js';
import { CONTENT_TYPES } from './content-types.js';
import type { DashboardEndpoint } from './session.js';
import { type ClientMessage, MAX_CLIENT_MESSAGE_BYTES } from './wire.js';

export interface DashboardServer {
  /** The URL to open, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const COOKIE = 'troupe_token';
/** A client that reads slower than this much buffered output misses snapshots until it catches up. */
const MAX_BUFFERED = 8 * 1024 * 1024;

export interface DashboardServerOptions {
  uiDir: string;
  port?: number;
  /** Where the server says why it closed a client or met an error (default: stderr). */
  log?: (line: string) => void;
}

export async function startDashboardServer(
  session: DashboardEndpoint,
  options: DashboardServerOptions,
): Promise<DashboardServer> {
  const uiDir = resolve(options.uiDir);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = createServer();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, HOST, () => done());
  });
  // An error on the server, a socket or a client is that connection's problem, never the run's:
  // an unhandled 'error' event would end the process with every agent in it.
  server.on('error', (error) => log(`dashboard: server error: ${error.message}`));
  sockets.on('error', (error) => log(`dashboard: WebSocket server error: ${error.message}`));
  const address = server.address();
  const gate = new Gate(typeof address === 'object' && address ? address.port : 0);
  server.on('request', (request: IncomingMessage, response: ServerResponse) =>
    serveRequest(gate, uiDir, request, response),
  );
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => log(`dashboard: connection error before upgrade: ${error.message}`));
    const check = gate.refusal(request);
    const path = gate.path(request);
    // Browsers always send Origin on a WebSocket; a missing one is not a page of this dashboard.
    if ('why' in check || path !== '/ws' || request.headers.origin === undefined) {
      const why = 'why' in check ? check.why : path !== '/ws' ? 'no such endpoint' : 'an origin is required';
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}\n`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => connectClient(ws, session, log));
  });
  return {
    url: `http://${HOST}:${gate.port}/?token=${gate.token}`,
    port: gate.port,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((done) => sockets.close(() => done()));
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Who may use the dashboard on `port`: this host name, this origin, the token (or its cookie). */
class Gate {
  readonly port: number;
  /** 32 characters of nanoid's URL-safe alphabet: 192 bits from the system's secure random source. */
  readonly token = nanoid(32);
  readonly #origins: Set<string>;
  readonly #hosts: Set<string>;
  readonly csp: string;

  constructor(port: number) {
    this.port = port;
    this.#origins = new Set([`http://${HOST}:${port}`, `http://localhost:${port}`]);
    this.#hosts = new Set([`${HOST}:${port}`, `localhost:${port}`]);
    this.csp = [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ws://${HOST}:${port} ws://localhost:${port}`,
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
      "form-action 'none'",
    ].join('; ');
  }

  path(request: IncomingMessage): string {
    return new URL(request.url ?? '/', `http://${HOST}:${this.port}`).pathname;
  }

  /** Why the request may not go on, or whether the token came in the URL (not in the cookie). */
  refusal(request: IncomingMessage): { why: string } | { fromQuery: boolean } {
    if (!this.#hosts.has(request.headers.host ?? ''))
      return { why: `host "${request.headers.host}" is not this dashboard` };
    const origin = request.headers.origin;
    if (origin !== undefined && !this.#origins.has(origin))
      return { why: `origin "${origin}" may not use this dashboard` };
    const url = new URL(request.url ?? '/', `http://${HOST}:${this.port}`);
    const given = url.searchParams.get('token');
    if (given !== null) return same(given, this.token) ? { fromQuery: true } : { why: 'wrong token' };
    return same(cookie(request, COOKIE) ?? '', this.token)
      ? { fromQuery: false }
      : { why: 'a token is required' };
  }
}

/** A GET or HEAD of the UI's files, behind the gate. */
function serveRequest(gate: Gate, uiDir: string, request: IncomingMessage, response: ServerResponse): void {
  const check = gate.refusal(request);
  if ('why' in check) {
    refuse(response, check.why);
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const headers: Record<string, string> = {
    'Content-Security-Policy': gate.csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  if (check.fromQuery) headers['Set-Cookie'] = `${COOKIE}=${gate.token}; HttpOnly; SameSite=Strict; Path=/`;
  const path = gate.path(request);
  // The token goes into the cookie and out of the address bar (and the browser's history):
  // the page is asked for again without it (issue 26).
  if (check.fromQuery && (path === '/' || path === '/index.html')) {
    response.writeHead(303, { ...headers, Location: path }).end();
    return;
  }
  void serveFile(uiDir, path === '/' ? '/index.html' : path).then((file) => {
    if (!file) {
      response.writeHead(404, headers).end('not found');
      return;
    }
    headers['Content-Type'] = CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream';
    response.writeHead(200, headers).end(request.method === 'HEAD' ? undefined : file.bytes);
  });
}

/** A client on the WebSocket: the session's messages out, its commands in, each answered. */
function connectClient(ws: WebSocket, session: DashboardEndpoint, log: (line: string) => void): void {
  // ws closes the connection itself after an error (1009 too large, 1007 invalid UTF-8, 1002
  // protocol error); the listener only has to exist and say why.
  ws.on('error', (error: Error & { code?: string }) => {
    log(`dashboard: closed a client: ${error.message}${error.code ? ` (${error.code})` : ''}`);
  });
  const unsubscribe = session.subscribe((message) => {
    if (ws.readyState !== ws.OPEN) return;
    if (message.type === 'snapshot' && ws.bufferedAmount > MAX_BUFFERED) return;
    ws.send(JSON.stringify(message));
  });
  ws.on('message', (data) => {
    let message: ClientMessage;
    try {
      message = JSON.parse(String(data)) as ClientMessage;
    } catch {
      ws.send(
        JSON.stringify({
          type: 'command.result',
          id: -1,
          error: 'a message is JSON: {"id":1,"command":{...}}',
        }),
      );
      return;
    }
    void session
      .request(message?.command)
      .catch((error: unknown) => ({ error: `the command failed: ${errorText(error)}` }))
      .then((result) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ type: 'command.result', id: Number(message?.id) || 0, ...result }));
      });
  });
  ws.on('close', unsubscribe);
}

function refuse(response: ServerResponse, why: string): void {
  response
    .writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
    .end(
      `troupe dashboard: refused (${why}). Open the URL printed by "troupe run --dashboard", token included.\n`,
    );
}

function same(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** A file of the UI bundle; never one outside it. */
async function serveFile(root: string, path: string): Promise<{ path: string; bytes: Buffer } | undefined> {
  try {
    const file = normalize(join(root, decodeURIComponent(path)));
    if (!file.startsWith(root + sep)) return undefined;
    return { path: file, bytes: await readFile(file) };
  } catch {
    return undefined;
  }
}
