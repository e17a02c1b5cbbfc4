// The desktop app, as far as it can be proven without the Electron binary (which cannot be
// downloaded here): its window's security settings and CSP as written, its IPC sender check, and
// its host bundles (built the way Electron Forge's Vite plugin builds them) running a system.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
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
      source('ui/index.html'),
    )?.[1];
    expect(meta).toBeDefined();
    expect(meta).not.toMatch(/unsafe|https?:/);
    expect(meta).toMatch(/script-src 'self'/);
  });

  it('denies navigation, new windows, webviews and permissions, and checks every IPC sender', () => {
    const main = source('src/app/main.ts');
    expect(main).toMatch(/contents\.on\('will-navigate', \(event\) => event\.preventDefault\(\)\)/);
    expect(main).toMatch(/setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/);
    expect(main).toMatch(/will-attach-webview/);
    expect(main).toMatch(/setPermissionRequestHandler\([^)]*\) => callback\(false\)\)/);
    expect(main.match(/isTrustedSender\(event\.senderFrame\?\.url, appUrl\)/g)).toHaveLength(2);
    expect(main).toMatch(/app\.enableSandbox\(\)/);
    const preload = source('src/app/preload.ts');
    expect(preload.match(/exposeInMainWorld/g)).toHaveLength(1);
  });

  it('trusts IPC only from the app page itself', () => {
    const packaged = 'file:///opt/troupe/resources/app.asar/.vite/renderer/main_window/index.html';
    expect(isTrustedSender(packaged, packaged)).toBe(true);
    expect(isTrustedSender('file:///tmp/evil.html', packaged)).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isTrustedSender('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedSender('https://example.com/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedSender(undefined, packaged)).toBe(false);
    expect(isTrustedSender('not a url', packaged)).toBe(false);
  });
});

describe('desktop app bundles', () => {
  it('builds the agent host, GPU host and model workers as Forge does, and they run systems', async () => {
    // As @electron-forge/plugin-vite's main config: CommonJS libraries, Node built-ins and
    // Electron external, plus our own externals from vite.main.config.ts.
    const external = [
      'electron',
      'onnxruntime-node',
      'binaryen',
      ...builtinModules,
      ...builtinModules.map((name) => `node:${name}`),
    ];
    for (const entry of ['agent-host', 'gpu-host', 'model-worker', 'llm-worker', 'preload']) {
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
      const hosts = { hostEntry: join(bundles, 'agent-host.cjs'), gpuEntry: join(bundles, 'gpu-host.cjs') };
      const bundled = await startRun(spec, { ...hosts, hostEnv: env }).done;
      const plain = await startRun(spec, {
        hostEntry: join(ROOT, 'dist', 'actors', 'host-main.js'),
        gpuEntry: join(ROOT, 'dist', 'gpu', 'gpu-host-main.js'),
      }).done;
      expect(bundled.ok).toBe(true);
      expect(bundled.trace).toBe(plain.trace);
      return bundled;
    };
    // An ONNX model through the model worker, and a language model through the LLM worker.
    expect((await run('inference/inference.system.yaml')).models?.[0]).toMatchObject({
      state: 'ready',
      answered: 40,
    });
    expect((await run('chat/chat.system.yaml')).models?.[0]).toMatchObject({ state: 'ready', answered: 9 });
  });
});
