// Seeded randomness for tests that pick at random (chaos victims, simulated inputs): the seed is
// printed, so a failure can be run again exactly with TROUPE_TEST_SEED=<seed>.

/** The seed for this test: TROUPE_TEST_SEED when set, else a fresh one. Printed either way. */
export function testSeed(label: string): number {
  const given = process.env.TROUPE_TEST_SEED;
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`TROUPE_TEST_SEED must be an integer (got "${given}")`);
  process.stdout.write(`${label}: seed ${seed} (run again with TROUPE_TEST_SEED=${seed})\n`);
  return seed;
}

/** Floats in [0, 1) from a seed (mulberry32, the generator the model builder uses). */
export { mulberry32 as seededRandom } from '../../scripts/onnx-builder/index.js';
