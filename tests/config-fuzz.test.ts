// Random and mutated YAML into the config loader: a spec or a ConfigError, never a crash or a hang.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadSystem } from '../src/supervisor/index.js';
import { agentModule, ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterEach(removeTempDirs);

function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = [
  'name',
  'agents',
  'supervisor',
  'module',
  ':',
  '-',
  ' ',
  '\n',
  '  ',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '*',
  '&a',
  '*a',
  '!!binary',
  '#',
  'null',
  '~',
  '1e9',
  '-1',
  'true',
  '...',
  '---',
  '|',
  '>',
  ',',
  '\t',
  'é',
  '\u0000',
  'a.actor.yaml',
  '../../x',
  'one_for_all',
  'limits',
  'fuel',
  'capabilities',
];

function loadsCleanly(dir: string, text: string): 'spec' | 'config-error' {
  const file = join(dir, 'fuzz.system.yaml');
  writeFileSync(file, text);
  try {
    loadSystem(file);
    return 'spec';
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const issue of error.issues) {
        expect(issue.message.length).toBeGreaterThan(0);
        expect(issue.file).toContain('fuzz.system.yaml');
      }
      return 'config-error';
    }
    throw new Error(`loader threw ${String(error)} on:\n${text}`);
  }
}

describe('config fuzzing', () => {
  const project = () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{}');
    copyFileSync(agentModule('echo'), join(dir, 'echo.wasm'));
    writeFileSync(join(dir, 'a.actor.yaml'), 'name: a\nmodule: ./echo.wasm\n');
    return dir;
  };

  it('random token soup gives clear errors', () => {
    const dir = project();
    const random = generator(11);
    for (let i = 0; i < 400; i++) {
      const length = Math.floor(random() * 40);
      const text = Array.from({ length }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
      expect(['spec', 'config-error']).toContain(loadsCleanly(dir, text));
    }
  });

  it('mutated valid files give a spec or clear errors', () => {
    const dir = project();
    const base = readFileSync(join(ROOT, 'examples', 'hello', 'hello.system.yaml'), 'utf8').replaceAll(
      './',
      `${join(ROOT, 'examples', 'hello')}/`,
    );
    const random = generator(12);
    const outcomes = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const chars = [...base];
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        const at = Math.floor(random() * chars.length);
        const piece = PIECES[Math.floor(random() * PIECES.length)] as string;
        if (random() < 0.5) chars.splice(at, 1, piece);
        else chars.splice(at, Math.floor(random() * 6));
      }
      outcomes.add(loadsCleanly(dir, chars.join('')));
    }
    expect(outcomes).toContain('config-error');
  });
});
