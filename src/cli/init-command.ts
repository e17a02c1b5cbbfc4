// `troupe init <folder>`: writes a new project (see init-templates.ts) into a new or empty folder.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectFiles } from './init-templates.js';
import { UsageError } from './usage-error.js';

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export function initCommand(folder: string, name?: string): number {
  const target = resolve(folder);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UsageError(`${folder} exists and is not a folder`, 'init');
    const entries = readdirSync(target);
    if (entries.length > 0) {
      throw new UsageError(
        `${folder} is not empty (it has ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})`,
        'init',
      );
    }
  }
  const system =
    name ??
    basename(target)
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[^a-z]+/, '');
  if (!NAME.test(system)) {
    throw new UsageError(
      `"${system}" cannot name a system: lowercase letters, digits, "-" and "_", starting with a letter (give one with --name)`,
      'init',
    );
  }
  // Troupe is not on the npm registry (yet): the project depends on the copy running this command.
  const troupe = `file:${fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')}`;
  for (const [path, text] of Object.entries(projectFiles(system, troupe))) {
    const file = join(target, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text, { flag: 'wx' });
  }
  process.stdout.write(
    [
      `created ${folder}: ${system}.system.yaml, agents/greeter.ts, package.json, tsconfig.json, README.md`,
      '',
      'next:',
      `  cd ${folder}`,
      `  npm install            (typescript, and troupe from ${troupe})`,
      '  npm start              run the system',
      '  npm run check          type-check the agents',
      '',
    ].join('\n'),
  );
  return 0;
}
