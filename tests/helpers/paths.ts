// Where the built pieces the tests use live; `npm test` builds them first.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HOST_ENTRY = join(ROOT, 'dist', 'actors', 'host-main.js');
export const GPU_ENTRY = join(ROOT, 'dist', 'gpu-host', 'gpu-host-main.js');
/** The entry of an MCP server from npm (a dev dependency): `mcpServer('filesystem')`. */
export const mcpServer = (name: string) =>
  join(ROOT, 'node_modules', '@modelcontextprotocol', `server-${name}`, 'dist', 'index.js');
export const TOOL_ENTRY = join(ROOT, 'dist', 'tool-host', 'tool-host-main.js');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const TROUPE_BIN = join(ROOT, 'bin', 'troupe.js');

export function agentModule(name: string): string {
  const path = join(ROOT, 'wasm', 'build', `${name}.wasm`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
  return path;
}

/** Hosts that wait a random 0..TROUPE_DELAY_MS ms before each batch or answer (timing tests). */
export const DELAYED_HOST = join(FIXTURES, 'hosts', 'delayed-agent-host.mjs');
export const DELAYED_GPU_HOST = join(FIXTURES, 'hosts', 'delayed-gpu-host.mjs');
/** An agent host whose heap grows without bound on a batch with an envelope of kind "hog". */
export const HEAP_HOG_HOST = join(FIXTURES, 'hosts', 'heap-hog-host.mjs');
