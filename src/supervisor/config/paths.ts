// Paths a system file names: resolved against the file, and kept inside the project root.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { ConfigIssue, FieldPath, YamlSource } from './yaml-source.js';

/** Resolves a path relative to the file naming it; refuses one that leaves the root or is missing. */
export function checkPath(
  source: YamlSource,
  at: FieldPath,
  value: string,
  root: string,
  issues: ConfigIssue[],
  kind: 'file' | 'folder' = 'file',
): string | undefined {
  const path = resolve(dirname(resolve(source.file)), value);
  if (!inside(root, path)) {
    issues.push(source.issue(at, `path "${value}" leaves the project root ${display(root)}`));
    return undefined;
  }
  const stat = existsSync(path) ? statSync(path) : undefined;
  if (!stat || (kind === 'file' ? !stat.isFile() : !stat.isDirectory())) {
    issues.push(source.issue(at, `${kind} "${value}" not found (looked for ${display(path)})`));
    return undefined;
  }
  // A symbolic link inside the root may still point outside it.
  if (!inside(realpathSync(root), realpathSync(path))) {
    issues.push(source.issue(at, `path "${value}" links outside the project root ${display(root)}`));
    return undefined;
  }
  return path;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
