// Writes swarm.system.yaml: a ring of N members (default 1,000) in shared isolation.
//   node examples/swarm/make-swarm.mjs [N]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const size = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(size) || size < 2 || size > 9999) throw new Error('N is a whole number from 2 to 9999');
const name = (i) => `m-${String(i % size).padStart(4, '0')}`;
const lines = [
  '# yaml-language-server: $schema=../../schema/system.schema.json',
  `# The swarm: ${size} members in a ring, all working at once. Each starts a token that goes once`,
  '# around the ring, every member adding its value (1..N) on the way; when a token is back home its',
  '# member holds the sum of all values and checks it, then finishes. Every agent shares a pool of',
  '# worker threads (isolation: shared). Made by make-swarm.mjs; run it with:',
  '#   npx troupe run examples/swarm/swarm.system.yaml --until-idle',
  'name: swarm',
  'seed: 7',
  'scheduler:',
  `  maxBatch: 16`,
  '# A thousand members may restart more often than the default 5 in 10 s without the swarm failing.',
  'supervisor:',
  `  maxRestarts: ${Math.max(5, Math.ceil(size / 20))}`,
  'agents:',
];
for (let i = 0; i < size; i++) {
  const init = `self=${name(i)};next=${name(i + 1)};value=${i + 1};size=${size}`;
  lines.push(
    `  - { name: ${name(i)}, module: ../../wasm/build/ring-sum.wasm, init: "${init}", restart: transient, isolation: shared, capabilities: { sendTo: [${name(i + 1)}] } }`,
  );
}
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'swarm.system.yaml'), `${lines.join('\n')}\n`);
