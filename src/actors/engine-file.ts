// Where the metered QuickJS engine is: `npm run build` meters QuickJS's WebAssembly once
// (scripts/build-engine.mjs, with the meter agent modules get) and writes it beside dist/; hosts
// read it from there, from dist/actors/ (Node) or .vite/build/ (the desktop app's bundles).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The metered engine's file, under dist/engine/. */
export const ENGINE_FILE = 'quickjs-metered.wasm';

/** The function the metered engine imports and calls when its fuel falls below zero. */
export const ENGINE_REFUEL = { module: 'troupe', base: 'refuel' } as const;

/** The metered engine's path; throws naming the build step when it has not been built. */
export function enginePath(): string {
  // A CommonJS bundle (the desktop app's hosts) has __dirname and no import.meta.url.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '..', 'engine', ENGINE_FILE),
    join(here, '..', '..', 'dist', 'engine', ENGINE_FILE),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `the metered QuickJS engine is not built (looked for ${candidates.join(', ')}): run npm run build`,
    );
  }
  return found;
}
