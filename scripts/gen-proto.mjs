// Generates the static protobuf module and its typings from proto/ (never edited by hand).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  'proto/troupe/v1/tools.proto',
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
// With the `long` package installed, pbjs gives 64-bit fields a Long(0) default even under
// --force-number: a field left at zero then decodes as an object (a kill journaled at tick 0 was
// keyed by Long(0) and never replayed). Every 64-bit default becomes the number 0.
const generated = join(out, 'troupe.js');
writeFileSync(
  generated,
  readFileSync(generated, 'utf8').replaceAll(
    /\$util\.Long \? \$util\.Long\.fromBits\(0,0,(true|false)\) : 0/g,
    '0',
  ),
);
// tsc does not emit plain .js sources, so the built tree gets its own copy.
const dist = join(root, 'dist', 'protocol', 'generated');
mkdirSync(dist, { recursive: true });
copyFileSync(join(out, 'troupe.js'), join(dist, 'troupe.js'));
