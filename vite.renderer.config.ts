// The supervisor window's UI bundle (src/ui/): served by the headless dashboard from dist/ui, and the
// renderer `main_window` of the desktop app (Electron Forge's Vite plugin builds it there).
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/ui',
  base: './',
  build: {
    outDir: '../../dist/ui',
    emptyOutDir: true,
    // No inline scripts or styles: the CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
