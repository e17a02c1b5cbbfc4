// What a part of the tree loads, followed by esbuild from its entry (issue 27). The runtime core
// decides without IO: it loads the core, the ABI's facts, the protocol and the pure replay; before,
// it reached the sandboxes (QuickJS, binaryen) through actors/index.ts and the file system through
// the journal's writer and header. The desktop app loads no CLI module (it opened journals through
// one).
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';

async function inputsOf(entry: string): Promise<Metafile['inputs']> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  return result.metafile.inputs;
}

describe('import closures', () => {
  it("the runtime core's loads neither a sandbox nor the file system", { timeout: 60_000 }, async () => {
    const inputs = await inputsOf('src/supervisor/core/index.ts');
    const files = Object.keys(inputs).sort();
    const external = [
      ...new Set(
        Object.values(inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path)),
      ),
    ].sort();
    expect(
      files.filter((file) => !/^src\/(supervisor\/core|supervisor\/replay|abi|protocol)\//.test(file)),
    ).toEqual([]);
    expect(external).toEqual(['node:crypto', 'node:zlib', 'protobufjs/minimal.js', 'xstate']);
  });

  it("the desktop app's holds no CLI module", { timeout: 60_000 }, async () => {
    const files = Object.keys(await inputsOf('src/app/main.ts'));
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((file) => file.startsWith('src/cli/'))).toEqual([]);
  });
});
