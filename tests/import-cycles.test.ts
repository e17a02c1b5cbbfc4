// No module imports itself through others: the AssemblyScript SDK (issue 27: its request modules
// imported index.ts, which re-exports them) and the runtime's TypeScript source alike. Read from
// the files' import and export-from statements, so a new cycle fails here by name.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function sources(folder: string): string[] {
  return readdirSync(folder, { recursive: true })
    .map((name) => join(folder, String(name)))
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts') && statSync(path).isFile());
}

/** The files a module imports or re-exports at run time (type-only imports are left out). */
function imports(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+["']([^"']+)["']/gms)) {
    const [, typeOnly, target] = match;
    if (typeOnly || !target?.startsWith('.')) continue;
    const base = resolve(dirname(file), target.replace(/\.js$/, ''));
    const candidate = [`${base}.ts`, join(base, 'index.ts')].find((path) => known.has(path));
    if (candidate) found.push(candidate);
  }
  return found;
}

/** Each cycle once, as the chain of files that closes it. */
function cycles(files: string[]): string[][] {
  const known = new Set(files);
  const graph = new Map(files.map((file) => [file, imports(file, known)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found.map((chain) => chain.map((file) => relative(root, file)));
}

describe('import cycles', { timeout: 30_000 }, () => {
  it('the AssemblyScript SDK has none', () => {
    expect(cycles(sources(join(root, 'wasm', 'sdk')))).toEqual([]);
  });

  it('finds a cycle through a re-export, and passes type-only imports', () => {
    const folder = mkdtempSync(join(tmpdir(), 'troupe-cycles-'));
    try {
      writeFileSync(
        join(folder, 'index.ts'),
        'export { ask } from "./ask";\nexport function send(): void {}\n',
      );
      writeFileSync(
        join(folder, 'ask.ts'),
        'import { send } from "./index";\nexport function ask(): void { send(); }\n',
      );
      writeFileSync(join(folder, 'types.ts'), 'import type { X } from "./typed";\nexport type Y = X;\n');
      writeFileSync(join(folder, 'typed.ts'), 'import type { Y } from "./types";\nexport type X = Y;\n');
      expect(cycles(sources(folder)).map((chain) => chain.map((file) => basename(file)))).toEqual([
        ['ask.ts', 'index.ts', 'ask.ts'],
      ]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('the runtime source has none', () => {
    expect(cycles(sources(join(root, 'src')))).toEqual([]);
  });
});
