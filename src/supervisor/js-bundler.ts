// TypeScript and JavaScript agents: the agent's file and what it imports, bundled by esbuild into
// one script its QuickJS sandbox runs. "troupe/agent" is this package's SDK; Node's own modules
// are refused by name, since nothing outside the sandbox is reachable from an agent. The bundler
// reads only the system's root and the SDK: every import is resolved, symbolic links followed,
// and refused unless it lands there; only scripts and JSON are read (no text, file or binary
// loaders, no import attributes but JSON's), so no file of the machine becomes an agent's data.
import { existsSync, realpathSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, extname, isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { errorText } from '../protocol/index.js';

const SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** What an agent's bundle may be made of: its scripts and JSON data. */
const READABLE = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.json']);
/** Marks esbuild's own resolution, asked for by the confinement check, so it is not checked again. */
const RESOLVING = Symbol('troupe-resolving');
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

const sandboxImports = (sdk: string | undefined, root: string): Plugin => ({
  name: 'troupe-agent-imports',
  setup(build) {
    const allowed = [realpathSync(root), ...(sdk && existsSync(sdk) ? [realpathSync(dirname(sdk))] : [])];
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === RESOLVING || args.kind === 'entry-point' || args.path === 'troupe/agent')
        return undefined;
      const refused = (why: string) => ({ errors: [{ text: `imports "${args.path}": ${why}` }] });
      const type = (args.with as Record<string, string> | undefined)?.type;
      if (type !== undefined && type !== 'json') {
        return refused(
          `import attributes (type: "${type}") are not allowed in an agent; it may import scripts and JSON`,
        );
      }
      if (NODE_MODULES.has(args.path)) return undefined;
      const found = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: RESOLVING,
      });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.external || found.namespace !== 'file') return found;
      const real = realpathSync(found.path);
      if (!allowed.some((folder) => within(folder, real))) {
        return refused(
          `it resolves to ${real}, outside the system's root ${root}: an agent's code and data come from its project only`,
        );
      }
      if (!READABLE.has(extname(real))) {
        return refused(
          `an agent may import scripts and JSON only, not "${extname(real) || 'a file without an extension'}" files`,
        );
      }
      return { path: found.path, sideEffects: found.sideEffects };
    });
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

function within(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Bundles the agent at `path`, reading nothing outside `root` (the system's) and the SDK; file
 * names in the bundle are relative to `root`. A failure names the file, line and column of each
 * error.
 */
export async function bundleAgent(path: string, root: string, sdk = defaultSdkEntry()): Promise<Bundle> {
  try {
    const result = await withBundlerEnvironment(() =>
      build({
        absWorkingDir: root,
        // NODE_PATH is the supervisor's environment, not the project: no folder outside it is searched.
        nodePaths: [],
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
        plugins: [sandboxImports(sdk, root)],
      }),
    );
    return { ok: true, code: result.outputFiles[0]?.text ?? '' };
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!errors?.length)
      return { ok: false, reason: `module ${path} could not be bundled: ${errorText(error)}` };
    return { ok: false, reason: errors.map(describe).join('; ') };
  }
}

/** What esbuild's own process may know of the supervisor's environment (a platform's start needs). */
const BUNDLER_ENVIRONMENT = ['PATH', 'SYSTEMROOT', 'WINDIR', 'TMPDIR', 'TEMP', 'TMP'];

/**
 * Runs `start` with an allow-listed environment. esbuild starts its native process at the first
 * build, synchronously inside the call, with the environment of the moment (it passes none of its
 * own), and keeps it for the builds after: the supervisor's is put back as soon as the call has
 * returned, before anything else runs, so no secret of the supervisor's reaches that process.
 */
function withBundlerEnvironment<T>(start: () => Promise<T>): Promise<T> {
  const saved = process.env;
  const allowed: NodeJS.ProcessEnv = {};
  for (const key of BUNDLER_ENVIRONMENT) if (saved[key] !== undefined) allowed[key] = saved[key];
  process.env = allowed;
  try {
    return start();
  } finally {
    process.env = saved;
  }
}

function describe(message: Message): string {
  const at = message.location;
  return at ? `${at.file}:${at.line}:${at.column + 1}: ${message.text}` : message.text;
}
