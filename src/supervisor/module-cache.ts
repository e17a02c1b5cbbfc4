// Checks each agent module against ABI v1, meters it once (fuel, memory maximum) and keeps the
// result on disk, keyed by the module's content, the meter's version and the limits baked into
// it, so restarts and later runs reuse it. The cache folder is the user's alone (mode 0700, owned
// by them); each cached file is verified against its digest before use and rebuilt on mismatch,
// so a file swapped or damaged on disk never runs unmetered.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { METER_VERSION } from '../abi/index.js';
import { checkAgentModule, JS_MIN_PAGES, writeJsBundle } from '../actors/index.js';
import { errorText } from '../protocol/index.js';
import type { AgentSpec } from './config/index.js';
import { bundleAgent, defaultSdkEntry, isScriptModule } from './js-bundler.js';
import { loadMeter } from './modules/index.js';

/** A cache entry's file name: its key (32 hex digits) and its kind. */
const ENTRY_NAME = /^([0-9a-f]{32})\.(?:wasm|js)$/;

export type PreparedModule = { ok: true; path: string } | { ok: false; reason: string };

/** The per-user default: $XDG_CACHE_HOME/troupe/modules, else ~/.cache/troupe/modules. */
export function defaultModuleCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'troupe', 'modules');
}

export class ModuleCache {
  readonly #requested: string;
  #dir: string | undefined;
  /** A folder of its own for this run, when the user's could not be used. */
  #fallback: string | undefined;
  readonly #prepared = new Map<string, PreparedModule>();
  /** Script agents' bundles, by module path, root and memory pages. */
  readonly #bundles = new Map<string, Promise<PreparedModule>>();
  readonly #warn: (line: string) => void;

  readonly #sdk: string | undefined;

  /** `sdk`: where troupe/agent is, for bundling script agents (default: beside this package's code). */
  constructor(dir: string, warn: (line: string) => void = () => {}, sdk?: string) {
    this.#requested = dir;
    this.#warn = warn;
    this.#sdk = sdk;
  }

  /**
   * Ends its use: a folder of its own made for this run (the user's cache could not be trusted)
   * is removed, so none is left in the temporary folder (issue 26). Also done when the process
   * exits, if it exits first.
   */
  close(): void {
    if (!this.#fallback) return;
    rmSync(this.#fallback, { recursive: true, force: true });
    process.off('exit', this.#removeOnExit);
    this.#fallback = undefined;
  }

  readonly #removeOnExit = () => this.close();

  /** The folder in use, once a module was prepared (a host must be able to read it). */
  get directory(): string | undefined {
    return this.#dir;
  }

  /**
   * Never throws: every failure is the agent's, with a reason that names its module. `root` is
   * the system's: a script agent's bundle reads nothing outside it (and the SDK), and names its
   * files relative to it, so a project copied elsewhere gives the same bundle. A script is
   * bundled once per cache (a thousand agents of one module, one bundle), and again when
   * `rebundle` says its files changed.
   */
  async prepare(agent: AgentSpec, root: string, { rebundle = false } = {}): Promise<PreparedModule> {
    try {
      if (!isScriptModule(agent.modulePath)) return await this.#prepare(agent);
      const key = `${agent.modulePath}\0${root}\0${agent.limits.memoryPages}`;
      let bundled = rebundle ? undefined : this.#bundles.get(key);
      if (!bundled) {
        bundled = this.#prepareScript(agent, root);
        this.#bundles.set(key, bundled);
      }
      return await bundled;
    } catch (error) {
      return { ok: false, reason: `module ${agent.modulePath} could not be prepared: ${errorText(error)}` };
    }
  }

  async #prepare(agent: AgentSpec): Promise<PreparedModule> {
    const label = `module ${agent.modulePath}`;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(agent.modulePath);
    } catch (error) {
      return { ok: false, reason: `cannot read ${label}: ${errorText(error)}` };
    }
    const key = createHash('sha256')
      .update(bytes)
      .update(`meter v${METER_VERSION}, ${agent.limits.memoryPages} pages`)
      .digest('hex')
      .slice(0, 32);
    const known = this.#prepared.get(key);
    if (known) return known;
    // Checked here, on the agent's own bytes, so a refusal names its module, not a cache file.
    const check = checkAgentModule(bytes, label);
    let prepared: PreparedModule;
    if (!check.ok) {
      prepared = check;
    } else {
      const dir = this.#privateDir();
      const path = join(dir, `${key}.wasm`);
      prepared = { ok: true, path };
      if (!verified(path, key)) {
        const meterModule = await loadMeter();
        const metered = meterModule(bytes, label, { maxMemoryPages: agent.limits.memoryPages });
        if (metered.ok) writeEntry(dir, path, key, metered.bytes);
        else prepared = metered;
      }
    }
    this.#prepared.set(key, prepared);
    return prepared;
  }

  /** A TypeScript or JavaScript agent: bundled (each time, so an edit is picked up) and kept as .js. */
  async #prepareScript(agent: AgentSpec, root: string): Promise<PreparedModule> {
    const tooSmall = scriptMemoryRefusal(agent);
    if (tooSmall) return { ok: false, reason: tooSmall };
    const bundle = await bundleAgent(agent.modulePath, root, this.#sdk ?? defaultSdkEntry());
    if (!bundle.ok) return bundle;
    // The name stack traces show: relative to the root, so the trace does not depend on the folder.
    const text = writeJsBundle(bundle.code, relative(root, agent.modulePath));
    const key = createHash('sha256').update(text).update('js agent v1').digest('hex').slice(0, 32);
    const dir = this.#privateDir();
    const path = join(dir, `${key}.js`);
    if (!verified(path, key)) writeEntry(dir, path, key, Buffer.from(text));
    return { ok: true, path };
  }

  /** Whether `file` names an entry of a module cache (`<key>.wasm` or `<key>.js`), nothing else. */
  static isEntryName(file: string): boolean {
    return ENTRY_NAME.test(file);
  }

  /** The folder, made private now (a host given it as a read path can read it). */
  ensureDirectory(): string {
    return this.#privateDir();
  }

  /** The bytes of a cached entry, verified; undefined when absent, damaged or not an entry name. */
  read(file: string): Uint8Array | undefined {
    const path = this.pathOf(file);
    return path ? readFileSync(path) : undefined;
  }

  /** The path of a cached entry when it is there and whole. */
  pathOf(file: string): string | undefined {
    const match = ENTRY_NAME.exec(file);
    if (!match) return undefined;
    const path = join(this.#privateDir(), file);
    return verified(path, match[1] as string) ? path : undefined;
  }

  /** Keeps an entry prepared elsewhere (a cluster's coordinator); returns its path here. */
  store(file: string, bytes: Uint8Array): string {
    const match = ENTRY_NAME.exec(file);
    if (!match) throw new Error(`"${file}" is not a module cache entry`);
    const dir = this.#privateDir();
    const path = join(dir, file);
    writeEntry(dir, path, match[1] as string, bytes);
    return path;
  }

  /** A private folder for this run alone, removed by close() or when the process exits. */
  #ownFolder(): string {
    this.#fallback = mkdtempSync(join(tmpdir(), 'troupe-modules-'));
    process.on('exit', this.#removeOnExit);
    return this.#fallback;
  }

  /** The cache folder, made private; a folder of another user's or others can write to is not used. */
  #privateDir(): string {
    if (this.#dir) return this.#dir;
    const dir = this.#requested;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    const uid = process.getuid?.();
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) {
      this.#dir = this.#ownFolder();
      this.#warn(
        `module cache ${dir} is not a folder of this user's; using ${this.#dir} for this run (remove ${dir} or fix its owner)`,
      );
      return this.#dir;
    }
    if ((stat.mode & 0o022) !== 0) {
      // Others could have written entries (with matching digests): nothing in it is trusted.
      this.#dir = this.#ownFolder();
      const mode = (stat.mode & 0o777).toString(8);
      this.#warn(`module cache ${dir} is writable by others (mode ${mode}); using ${this.#dir} for this run`);
      return this.#dir;
    }
    if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    this.#dir = dir;
    return dir;
  }
}

function digest(key: string, bytes: Uint8Array): string {
  return createHash('sha256').update(`troupe module cache v1 ${key}\n`).update(bytes).digest('hex');
}

/** Whether the cached module exists and its bytes are the ones written for this key. */
function verified(path: string, key: string): boolean {
  try {
    const bytes = readFileSync(path);
    const sum = readFileSync(`${path}.sha256`, 'utf8').trim();
    return sum === digest(key, bytes);
  } catch {
    return false;
  }
}

// Another run may be writing the same entry; a rename makes each file appear whole or not at all.
// The digest is written last, so a half-replaced entry fails verification and is rebuilt.
function writeEntry(dir: string, path: string, key: string, bytes: Uint8Array): void {
  const write = (target: string, data: Uint8Array | string) => {
    const temporary = join(dir, `.${key}.${process.pid}.tmp`);
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, target);
  };
  write(path, bytes);
  write(`${path}.sha256`, `${digest(key, bytes)}\n`);
}

/** Why a TypeScript or JavaScript agent's memory limit is too small for QuickJS, if it is. */
export function scriptMemoryRefusal(agent: AgentSpec): string | undefined {
  if (agent.limits.memoryPages >= JS_MIN_PAGES) return undefined;
  return `module ${agent.modulePath}: a TypeScript or JavaScript agent needs limits.memoryPages of at least ${JS_MIN_PAGES} (QuickJS takes 16 MiB itself); it has ${agent.limits.memoryPages}`;
}
