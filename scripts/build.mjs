// `npm run build`: each step runs only when its inputs changed since it last succeeded (a stamp
// of their paths, sizes and modification times in dist/.build/), and says what it does. With
// nothing changed the whole build takes about a second; a change to one AssemblyScript agent
// rebuilds that agent alone (scripts/build-wasm.mjs keeps one stamp per agent).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamps = join(root, 'dist', '.build');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const node = (script, ...args) => [process.execPath, [join(root, script), ...args]];
const force = process.argv.includes('--force');

/** Every file under the given paths (folders walked), sorted. */
function files(paths) {
  const found = [];
  const walk = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else found.push(path);
  };
  for (const path of paths) walk(join(root, path));
  return found.sort();
}

export function fingerprint(inputs) {
  const hash = createHash('sha256');
  for (const file of files(inputs)) {
    const stat = statSync(file);
    hash.update(`${relative(root, file)}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

const STEPS = [
  {
    name: 'protocol',
    what: "protobuf code from proto/ (TypeScript, and the AssemblyScript SDK's wire code)",
    inputs: ['proto', 'scripts/gen-proto.mjs', 'scripts/gen-as-wire.mjs'],
    outputs: [
      'src/protocol/generated/troupe.js',
      'dist/protocol/generated/troupe.js',
      'wasm/sdk/generated/inference.ts',
    ],
    run: [node('scripts/gen-proto.mjs'), node('scripts/gen-as-wire.mjs')],
  },
  {
    name: 'typescript',
    what: 'src/ to dist/ (tsc), the SDK types, the ONNX builder',
    inputs: [
      'src',
      'scripts/onnx-builder',
      'tsconfig.json',
      'tsconfig.sdk.json',
      'tsconfig.scripts.json',
      'package.json',
    ],
    outputs: ['dist/cli/main.js', 'dist/sdk/index.d.ts', 'dist/tools/onnx-builder/index.js'],
    run: [
      [bin('tsc'), ['-p', 'tsconfig.json']],
      [bin('tsc'), ['-p', 'tsconfig.sdk.json']],
      [bin('tsc'), ['-p', 'tsconfig.scripts.json']],
    ],
  },
  {
    name: 'engine',
    what: "QuickJS's WebAssembly, metered for JavaScript agents",
    inputs: [
      'src/supervisor/modules/meter.ts',
      'src/supervisor/modules/bulk-charge.ts',
      'src/actors/engine-file.ts',
      'scripts/build-engine.mjs',
    ],
    outputs: ['dist/engine/quickjs-metered.wasm'],
    run: [node('scripts/build-engine.mjs')],
  },
  {
    name: 'agents',
    what: 'AssemblyScript agents in wasm/agents/ (each only when it or the SDK changed)',
    inputs: ['wasm/agents', 'wasm/sdk', 'scripts/build-wasm.mjs'],
    outputs: ['wasm/build'],
    run: [node('scripts/build-wasm.mjs')],
  },
  {
    name: 'models',
    what: 'the example models, built in code',
    inputs: ['scripts/build-models.mjs', 'scripts/onnx-builder'],
    outputs: ['examples/inference/models/mlp.onnx', 'examples/chat/model'],
    run: [node('scripts/build-models.mjs')],
  },
  {
    name: 'ui',
    what: 'the supervisor window (vite)',
    inputs: ['src/ui', 'src/dashboard/wire.ts', 'src/supervisor/core/events.ts', 'vite.renderer.config.ts'],
    outputs: ['dist/ui/index.html'],
    run: [[bin('vite'), ['build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn']]],
  },
];

mkdirSync(stamps, { recursive: true });
const started = Date.now();
let ran = 0;
for (const step of STEPS) {
  const stampFile = join(stamps, `${step.name}.stamp`);
  const stamp = fingerprint(step.inputs);
  const built = step.outputs.every((output) => existsSync(join(root, output)));
  const known = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
  if (!force && built && known === stamp) continue;
  const begun = Date.now();
  process.stdout.write(`build: ${step.name}: ${step.what}\n`);
  try {
    for (const [command, args] of step.run) execFileSync(command, args, { cwd: root, stdio: 'inherit' });
  } catch {
    process.stderr.write(`build: ${step.name} failed (see above)\n`);
    process.exit(1);
  }
  // Inputs the step itself writes (generated code under src/) are part of the next fingerprint.
  writeFileSync(stampFile, fingerprint(step.inputs));
  process.stdout.write(`build: ${step.name} done in ${((Date.now() - begun) / 1000).toFixed(1)} s\n`);
  ran++;
}
const took = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(ran === 0 ? `build: up to date (${took} s)\n` : `build: done in ${took} s\n`);
