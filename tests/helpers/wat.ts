// Assembles WAT fixtures (misbehaving agents) with the wabt package.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';
import { FIXTURES } from './paths.js';

const wabt = await wabtInit();

export function assembleWat(text: string, name = 'fixture.wat'): Uint8Array {
  const module = wabt.parseWat(name, text);
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Assembles tests/fixtures/wat/<name>.wat into `dir` and returns the .wasm path. */
export function watFixture(name: string, dir: string): string {
  const bytes = assembleWat(readFileSync(join(FIXTURES, 'wat', `${name}.wat`), 'utf8'), `${name}.wat`);
  const path = join(dir, `${name}.wasm`);
  writeFileSync(path, bytes);
  return path;
}
