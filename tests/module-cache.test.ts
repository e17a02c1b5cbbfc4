// The module cache: private to the user, verified before use, and refusals that name the agent's
// own module. A cached file swapped on disk is rebuilt, never run unmetered.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentSpec } from '../src/supervisor/index.js';
import { ModuleCache } from '../src/supervisor/module-cache.js';
import { agentModule, ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir, writeSystem } from './helpers/system.js';
import { watFixture } from './helpers/wat.js';

afterEach(() => removeTempDirs());

const agentFor = (module: string): AgentSpec =>
  writeSystem({ agents: [{ name: 'a', module }] }).agents[0] as AgentSpec;

describe('module cache', () => {
  it('keeps metered modules in a folder only the user can open, each with its digest', async () => {
    const dir = join(tempDir(), 'cache');
    const prepared = await new ModuleCache(dir).prepare(agentFor(agentModule('echo')), ROOT);
    expect(prepared.ok).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const path = (prepared as { path: string }).path;
    expect(path.startsWith(dir)).toBe(true);
    expect(statSync(path).mode & 0o077).toBe(0);
    expect(readFileSync(`${path}.sha256`, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it('rebuilds a cached module whose bytes were swapped on disk', async () => {
    const dir = join(tempDir(), 'cache');
    const agent = agentFor(agentModule('echo'));
    const first = (await new ModuleCache(dir).prepare(agent, ROOT)) as { path: string };
    const metered = (path: string) =>
      WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(path))).some(
        (entry) => entry.name === '__troupe_fuel',
      );
    expect(metered(first.path)).toBe(true);
    // Someone puts the unmetered module in its place.
    writeFileSync(first.path, readFileSync(agentModule('echo')));
    expect(metered(first.path)).toBe(false);
    const again = (await new ModuleCache(dir).prepare(agent, ROOT)) as { path: string };
    expect(again.path).toBe(first.path);
    expect(metered(again.path)).toBe(true);
  });

  it('does not use a folder others can write to', async () => {
    const dir = join(tempDir(), 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const warnings: string[] = [];
    const cache = new ModuleCache(dir, (line) => warnings.push(line));
    const prepared = (await cache.prepare(agentFor(agentModule('echo')), ROOT)) as { path: string };
    expect(prepared.path.startsWith(dir)).toBe(false);
    expect(warnings).toEqual([
      expect.stringMatching(/module cache .*shared is writable by others \(mode 777\)/),
    ]);
    // The folder it used instead is its own for the run, and goes with it (issue 26: they stayed).
    const own = dirname(prepared.path);
    expect(existsSync(own)).toBe(true);
    cache.close();
    expect(existsSync(own)).toBe(false);
  });

  it("names the agent's own module, not a cache file, when refusing it", async () => {
    const dir = tempDir();
    const cache = new ModuleCache(join(dir, 'cache'));
    const forbidden = watFixture('forbidden-import', dir);
    expect(await cache.prepare(agentFor(forbidden), ROOT)).toEqual({
      ok: false,
      reason: expect.stringMatching(new RegExp(`^module ${forbidden} imports "env\\.fetch"`)),
    });
    const reserved = watFixture('reserved-export', dir);
    expect(await cache.prepare(agentFor(reserved), ROOT)).toEqual({
      ok: false,
      reason: `module ${reserved} exports "__troupe_fuel": names starting with "__troupe_" are reserved for Troupe's meter`,
    });
    const notWasm = join(dir, 'text.wasm');
    writeFileSync(notWasm, 'not a module');
    expect(await cache.prepare(agentFor(notWasm), ROOT)).toEqual({
      ok: false,
      reason: expect.stringMatching(new RegExp(`^module ${notWasm} is not a valid WebAssembly module`)),
    });
  });
});
