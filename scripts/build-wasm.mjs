// Compiles every AssemblyScript agent in wasm/agents/ to wasm/build/<name>.wasm with the asc API,
// with wasm/sdk/exports.ts as a second entry (it gives every module the ABI's exports). An agent is
// compiled again only when its source, the SDK or this script changed (a stamp beside its module).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const agents = join(root, 'wasm', 'agents');
const out = join(root, 'wasm', 'build');
mkdirSync(out, { recursive: true });

const sdk = join(root, 'wasm', 'sdk');
const shared = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
for (const name of readdirSync(sdk, { recursive: true }).sort()) {
  const path = join(sdk, String(name));
  if (statSync(path).isFile()) shared.update(String(name)).update(readFileSync(path));
}
const sharedDigest = shared.digest('hex');

let failed = 0;
let built = 0;
for (const file of readdirSync(agents)
  .filter((name) => name.endsWith('.ts'))
  .sort()) {
  const name = basename(file, '.ts');
  const stampFile = join(out, `.${name}.stamp`);
  const stamp = createHash('sha256')
    .update(sharedDigest)
    .update(readFileSync(join(agents, file)))
    .digest('hex');
  const current =
    existsSync(join(out, `${name}.wasm`)) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8') === stamp;
  if (current) continue;
  process.stdout.write(`  agent ${name}\n`);
  const { error } = await asc.main(
    [
      join('wasm', 'agents', file),
      join('wasm', 'sdk', 'exports.ts'),
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
  } else {
    writeFileSync(stampFile, stamp);
    built++;
  }
}
if (built === 0 && failed === 0) process.stdout.write('  every agent is up to date\n');
if (failed > 0) process.exit(1);
