// The preload script: bundled into one file (a sandboxed preload cannot load other modules).
import { defineConfig } from 'vite';

export default defineConfig({});
