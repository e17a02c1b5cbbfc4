// Main-process builds (main, agent host, GPU host, tool host, model workers). Native and WASM-tool packages
// stay outside the bundle and are packaged as they are (forge.config.ts keeps them).
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    rollupOptions: {
      // esbuild runs its native binary; QuickJS loads its .wasm file from beside its own code.
      external: [
        'onnxruntime-node',
        'binaryen',
        'esbuild',
        'quickjs-emscripten-core',
        '@jitl/quickjs-wasmfile-release-sync',
      ],
    },
  },
});
