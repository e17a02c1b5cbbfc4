// TypeScript and JavaScript agents: the agent's file and what it imports, bundled by esbuild into
// one script its QuickJS sandbox runs. "troupe/agent" is this package's SDK; Node's own modules
// are refused by name, since nothing outside the sandbox is reachable from an agent.
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { errorText } from '../protocol/index.js';

const SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;
/**
 * Where troupe/agent is: built, beside this file's folder as JavaScript; run from source (tests),
 * as TypeScript. A bundle without import.meta (the desktop app's main) passes its own path.
 */
export function defaultSdkEntry(): string | undefined {
  return ['../sdk/index.js', '../sdk/index.ts']
    .map((path) => fileURLToPath(new URL(path, import.meta.url)))
    .find((path) => existsSync(path));
}

const NODE_MODULES = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Whether an agent's module is a script (bundled and run by QuickJS) rather than WebAssembly. */
export function isScriptModule(path: string): boolean {
  return SCRIPT.test(path);
}

export type Bundle = { ok: true; code: string } | { ok: false; reason: string };

const sandboxImports = (sdk: string | undefined): Plugin => ({
  name: 'troupe-agent-imports',
  setup(build) {
    build.onResolve({ filter: /^troupe\/agent$/ }, () =>
      sdk && existsSync(sdk)
        ? { path: sdk }
        : {
            errors: [{ text: `the troupe/agent SDK is missing from this installation (looked for ${sdk})` }],
          },
    );
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      NODE_MODULES.has(args.path)
        ? {
            errors: [
              {
                text: `imports "${args.path}": an agent runs in a sandbox and cannot use Node's modules; it may import its own files, "troupe/agent" and plain JavaScript packages`,
              },
            ],
          }
        : undefined,
    );
  },
});

/** Bundles the agent at `path`; a failure names the file, line and column of each error. */
export async function bundleAgent(path: string, sdk = defaultSdkEntry()): Promise<Bundle> {
  try {
    const result = await build({
      entryPoints: [path],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [sandboxImports(sdk)],
    });
    return { ok: true, code: result.outputFiles[0]?.text ?? '' };
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!errors?.length)
      return { ok: false, reason: `module ${path} could not be bundled: ${errorText(error)}` };
    return { ok: false, reason: errors.map(describe).join('; ') };
  }
}

function describe(message: Message): string {
  const at = message.location;
  return at ? `${at.file}:${at.line}:${at.column + 1}: ${message.text}` : message.text;
}
