// Compiles every AssemblyScript agent in wasm/agents/ to wasm/build/<name>.wasm with the asc API.
import { mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const agents = join(root, 'wasm', 'agents');
const out = join(root, 'wasm', 'build');
mkdirSync(out, { recursive: true });

let failed = 0;
for (const file of readdirSync(agents)
  .filter((name) => name.endsWith('.ts'))
  .sort()) {
  const name = basename(file, '.ts');
  const { error } = await asc.main(
    [
      join('wasm', 'agents', file),
      '--outFile',
      join('wasm', 'build', `${name}.wasm`),
      '--optimizeLevel',
      '3',
      '--runtime',
      'incremental',
      // ABI v1 offers no env.abort; the SDK logs the reason as fatal and traps instead.
      '--use',
      'abort=wasm/sdk/index/troupeAbort',
      // Node 20 (V8 11.3) rejects some post-MVP features newer asc enables by default.
      '--disable',
      'bulk-memory',
    ],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    failed++;
    console.error(`wasm build: ${file} failed: ${error.message}`);
  }
}
if (failed > 0) process.exit(1);
