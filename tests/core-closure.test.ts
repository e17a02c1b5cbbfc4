// The runtime core decides without IO, and its imports say so: everything it loads, followed from
// src/supervisor/core/index.ts, is the core, the ABI's facts, the protocol and the pure replay
// (issue 27). Before, it reached the sandboxes (QuickJS, binaryen) through actors/index.ts and the
// file system through the journal's writer and header.
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';

describe("the runtime core's import closure", () => {
  it('loads neither a sandbox nor the file system', { timeout: 60_000 }, async () => {
    const result = await build({
      entryPoints: ['src/supervisor/core/index.ts'],
      absWorkingDir: ROOT,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    const inputs = result.metafile.inputs;
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
});
