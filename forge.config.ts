// Electron Forge: `npm start` runs the desktop app, `npm run make` builds installers. The Vite
// plugin builds the main process, the preload, the agent host, the GPU host and the model and
// language-model workers (unique basenames, as the plugin requires) and the renderer `main_window` (the same UI bundle
// the headless dashboard serves).

import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import type { ForgeConfig } from '@electron-forge/shared-types';

/** What the packaged app needs besides the Vite build: native and WASM-tool packages, examples. */
const KEEP = [
  '/.vite',
  '/package.json',
  '/examples',
  '/wasm/build',
  '/node_modules/onnxruntime-node',
  '/node_modules/onnxruntime-common',
  '/node_modules/binaryen',
  // TypeScript and JavaScript agents: the bundler (with its native binary), QuickJS, and the SDK
  // agents import as troupe/agent.
  '/node_modules/esbuild',
  '/node_modules/@esbuild',
  '/node_modules/quickjs-emscripten-core',
  '/node_modules/@jitl',
  '/dist/sdk',
  // The metered QuickJS engine (scripts/build-engine.mjs).
  '/dist/engine',
];

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Troupe',
    executableName: 'troupe',
    // Native libraries and the files they open by path cannot be read from inside an asar.
    asar: {
      unpack:
        '{**/node_modules/onnxruntime-node/**,**/node_modules/@esbuild/**,**/examples/**,**/wasm/build/**,**/dist/sdk/**}',
    },
    ignore: (file: string) => {
      if (!file) return false;
      return !KEEP.some(
        (kept) => file === kept || file.startsWith(`${kept}/`) || kept.startsWith(`${file}/`),
      );
    },
  },
  rebuildConfig: {},
  makers: [new MakerSquirrel({}), new MakerZIP({}, ['darwin']), new MakerDeb({})],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'src/app/main.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'src/app/preload.ts', config: 'vite.preload.config.ts', target: 'preload' },
        { entry: 'src/app/agent-host.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'src/app/gpu-host.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'src/app/tool-host.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'src/app/model-worker.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'src/app/llm-worker.ts', config: 'vite.main.config.ts', target: 'main' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
