// Generates the static protobuf module and its typings from proto/ (never edited by hand).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const out = join(root, 'src', 'protocol', 'generated');
const protos = [
  'proto/troupe/v1/envelope.proto',
  'proto/troupe/v1/host.proto',
  'proto/troupe/v1/journal.proto',
  'proto/troupe/v1/inference.proto',
  'proto/troupe/v1/gpu.proto',
];

mkdirSync(out, { recursive: true });
execFileSync(
  bin('pbjs'),
  [
    '-t',
    'static-module',
    '-w',
    'es6',
    '--force-number',
    '--no-verify',
    '--no-convert',
    '--no-delimited',
    '-p',
    'proto',
    '-o',
    join(out, 'troupe.js'),
    ...protos,
  ],
  { cwd: root, stdio: 'inherit' },
);
execFileSync(bin('pbts'), ['-o', join(out, 'troupe.d.ts'), join(out, 'troupe.js')], {
  cwd: root,
  stdio: 'inherit',
});
// tsc does not emit plain .js sources, so the built tree gets its own copy.
const dist = join(root, 'dist', 'protocol', 'generated');
mkdirSync(dist, { recursive: true });
copyFileSync(join(out, 'troupe.js'), join(dist, 'troupe.js'));
