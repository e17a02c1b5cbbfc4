// The desktop app, as far as it can be proven without the Electron binary (which cannot be
// downloaded here): its window's security settings and CSP as written, its IPC sender check, and
// its host bundles (built the way Electron Forge's Vite plugin builds them) running a system.
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_URL, appProtocolHandler } from '../src/app/app-protocol.js';
import { CHANNELS, preloadApi } from '../src/app/preload-api.js';
import { applySecurity } from '../src/app/security.js';
import { CONTENT_SECURITY_POLICY, isTrustedSender, windowOptions } from '../src/app/window-options.js';
import { loadSystem } from '../src/supervisor/index.js';
import { ROOT } from './helpers/paths.js';
import { killAllHosts, startRun } from './helpers/system.js';

const bundles = mkdtempSync(join(ROOT, '.vite-test-'));

afterAll(() => {
  killAllHosts();
  rmSync(bundles, { recursive: true, force: true });
});

const source = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('supervisor window security', () => {
  it('isolates the renderer: context isolation, sandbox, no Node, the preload as the only bridge', () => {
    const options = windowOptions('/app/.vite/build/preload.cjs');
    expect(options.webPreferences).toEqual({
      preload: '/app/.vite/build/preload.cjs',
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
    });
  });

  it('has a strict CSP: own bundle only, no inline or eval, no remote content; the page says so too', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split('; ').map((directive) => {
        const [name, ...values] = directive.split(' ');
        return [name, values];
      }),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(
      source('src/ui/index.html'),
    )?.[1];
    expect(meta).toBeDefined();
    expect(meta).not.toMatch(/unsafe|https?:/);
    expect(meta).toMatch(/script-src 'self'/);
  });

  it('denies navigation (any frame), redirects, new windows, webviews and permissions', () => {
    const session = new FakeSession();
    const app = new EventEmitter();
    applySecurity(
      session as unknown as Parameters<typeof applySecurity>[0],
      app as unknown as Parameters<typeof applySecurity>[1],
    );
    const contents = new FakeContents();
    app.emit('web-contents-created', {}, contents);
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const prevented = { done: false, preventDefault: () => (prevented.done = true) };
      contents.emit(event, prevented, 'https://example.com/');
      expect(prevented.done, event).toBe(true);
    }
    expect(contents.windowOpen?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    let granted: boolean | undefined;
    session.permissionRequest?.(null, 'media', (answer: boolean) => (granted = answer));
    expect(granted).toBe(false);
    expect(session.permissionCheck?.(null, 'clipboard-read', 'app://troupe', {})).toBe(false);
    let headers: Record<string, string[]> | undefined;
    session.headers?.(
      { responseHeaders: { 'X-Other': ['1'] } },
      (response: { responseHeaders: Record<string, string[]> }) => {
        headers = response.responseHeaders;
      },
    );
    expect(headers).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });

  it('exposes to the page only subscribe, command and request, on the channels main serves', async () => {
    const calls: unknown[][] = [];
    const ipc = {
      on: (...args: unknown[]) => calls.push(['on', args[0]]),
      send: (...args: unknown[]) => calls.push(['send', ...args]),
      invoke: async (...args: unknown[]) => {
        calls.push(['invoke', ...args]);
        return 'refused: test';
      },
    };
    const api = preloadApi(ipc as unknown as Parameters<typeof preloadApi>[0]);
    expect(Object.keys(api).sort()).toEqual(['command', 'request', 'subscribe']);
    api.subscribe(() => {});
    expect(await api.command({ op: 'pause' })).toBe('refused: test');
    expect(await api.request({ op: 'detail', agent: 'a' })).toEqual({ error: 'refused: test' });
    expect(calls).toEqual([
      ['on', CHANNELS.message],
      ['send', CHANNELS.subscribe],
      ['invoke', CHANNELS.command, { op: 'pause' }],
      ['invoke', CHANNELS.command, { op: 'detail', agent: 'a' }],
    ]);
  });

  it('trusts IPC only from the app page itself', () => {
    expect(isTrustedSender(APP_URL, APP_URL)).toBe(true);
    expect(isTrustedSender('app://troupe/other.html', APP_URL)).toBe(false);
    expect(isTrustedSender('app://evil/index.html', APP_URL)).toBe(false);
    expect(isTrustedSender('file:///opt/troupe/index.html', APP_URL)).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isTrustedSender('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedSender('https://example.com/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedSender(undefined, APP_URL)).toBe(false);
    expect(isTrustedSender('not a url', APP_URL)).toBe(false);
  });
});

describe('the app:// protocol', () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-renderer-'));
  const secret = `${basename(root)}-outside.txt`;
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'assets', 'main.js'), 'console.log(1)');
  writeFileSync(join(root, '..', secret), 'CONTENT OUTSIDE THE BUNDLE');
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', secret), { force: true });
  });
  const serve = appProtocolHandler(root);
  const get = (url: string, method = 'GET') => serve(new Request(url, { method }));

  it('serves the bundle with its type and the CSP', async () => {
    const page = await get('app://troupe/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<title>t</title>');
    expect((await get('app://troupe/')).status).toBe(200);
    const script = await get('app://troupe/assets/main.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('refuses paths that leave the bundle, other hosts and other methods; 404 for what is missing', async () => {
    for (const path of [
      `/../${secret}`,
      `/%2e%2e/${secret}`,
      `/assets/%2E%2E/..%2f${secret}`,
      '/..%5c..%5cetc/passwd',
      '/%00',
    ]) {
      const response = await get(`app://troupe${path}`);
      expect([403, 404], path).toContain(response.status);
      expect(await response.text(), path).not.toContain('OUTSIDE THE BUNDLE');
    }
    expect((await get('app://other/index.html')).status).toBe(403);
    expect((await get('app://troupe/index.html', 'POST')).status).toBe(405);
    expect((await get('app://troupe/missing.js')).status).toBe(404);
    expect((await get('app://troupe/assets')).status).toBe(404);
  });
});

class FakeContents extends EventEmitter {
  windowOpen: ((details: { url: string }) => unknown) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => unknown): void {
    this.windowOpen = handler;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the fake records Electron's handlers as given.
type Handler = (...args: any[]) => any;

class FakeSession {
  headers: Handler | undefined;
  permissionRequest: Handler | undefined;
  permissionCheck: Handler | undefined;
  webRequest = { onHeadersReceived: (handler: Handler) => (this.headers = handler) };
  setPermissionRequestHandler(handler: Handler): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: Handler): void {
    this.permissionCheck = handler;
  }
}

describe('desktop app bundles', () => {
  it('builds the agent host, GPU host, tool host and model workers as Forge does, and they run systems', async () => {
    // As @electron-forge/plugin-vite's main config: CommonJS libraries, Node built-ins and
    // Electron external, plus our own externals from vite.main.config.ts.
    const external = [
      'electron',
      'onnxruntime-node',
      'binaryen',
      'esbuild',
      'quickjs-emscripten-core',
      '@jitl/quickjs-wasmfile-release-sync',
      ...builtinModules,
      ...builtinModules.map((name) => `node:${name}`),
    ];
    for (const entry of ['agent-host', 'gpu-host', 'tool-host', 'model-worker', 'llm-worker', 'preload']) {
      await build({
        configFile: false,
        logLevel: 'silent',
        resolve: { conditions: ['node'], mainFields: ['module', 'jsnext:main', 'jsnext'] },
        build: {
          outDir: bundles,
          emptyOutDir: false,
          minify: false,
          lib: {
            entry: join(ROOT, 'src', 'app', `${entry}.ts`),
            fileName: () => '[name].cjs',
            formats: ['cjs'],
          },
          rollupOptions: { external },
        },
      });
    }
    // The preload bundles to one file that needs nothing but Electron.
    expect(readFileSync(join(bundles, 'preload.cjs'), 'utf8')).not.toMatch(/require\("\.\//);
    const env = {
      TROUPE_MODEL_WORKER: join(bundles, 'model-worker.cjs'),
      TROUPE_LLM_WORKER: join(bundles, 'llm-worker.cjs'),
    };
    const run = async (example: string) => {
      const spec = loadSystem(join(ROOT, 'examples', example));
      const hosts = {
        hostEntry: join(bundles, 'agent-host.cjs'),
        gpuEntry: join(bundles, 'gpu-host.cjs'),
        toolEntry: join(bundles, 'tool-host.cjs'),
      };
      const bundled = await startRun(spec, { ...hosts, hostEnv: env }).done;
      const plain = await startRun(spec, {
        hostEntry: join(ROOT, 'dist', 'actors', 'host-main.js'),
        gpuEntry: join(ROOT, 'dist', 'gpu-host', 'gpu-host-main.js'),
      }).done;
      expect(bundled.ok, bundled.reason).toBe(true);
      expect(bundled.trace).toBe(plain.trace);
      return bundled;
    };
    // An ONNX model through the model worker, and a language model through the LLM worker.
    expect((await run('inference/inference.system.yaml')).models?.[0]).toMatchObject({
      state: 'ready',
      answered: 40,
    });
    expect((await run('chat/chat.system.yaml')).models?.[0]).toMatchObject({ state: 'ready', answered: 9 });
    // MCP tool servers through the tool host (strict mode: the same trace both ways).
    const out = join(ROOT, 'examples', 'tools', 'workspace', 'out');
    try {
      expect((await run('tools/tools.system.yaml')).agents.librarian).toMatchObject({ state: 'stopped' });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
