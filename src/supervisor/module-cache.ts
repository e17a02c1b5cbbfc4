// Meters each agent module once (fuel, memory maximum) and keeps the result on disk, keyed by the
// module's content and the limits baked into it, so restarts and later runs reuse it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMeter, METER_VERSION } from '../actors/index.js';
import { errorText } from '../protocol/index.js';
import type { AgentSpec } from './config/index.js';

export type PreparedModule = { ok: true; path: string } | { ok: false; reason: string };

export class ModuleCache {
  readonly #dir: string;
  readonly #prepared = new Map<string, PreparedModule>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  async prepare(agent: AgentSpec): Promise<PreparedModule> {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(agent.modulePath);
    } catch (error) {
      return { ok: false, reason: `cannot read module ${agent.modulePath}: ${errorText(error)}` };
    }
    const key = createHash('sha256')
      .update(bytes)
      .update(`meter v${METER_VERSION}, ${agent.limits.memoryPages} pages`)
      .digest('hex')
      .slice(0, 32);
    const known = this.#prepared.get(key);
    if (known) return known;
    const path = join(this.#dir, `${key}.wasm`);
    let prepared: PreparedModule = { ok: true, path };
    if (!existsSync(path)) {
      const meterModule = await loadMeter();
      const metered = meterModule(bytes, `module ${agent.modulePath}`, {
        maxMemoryPages: agent.limits.memoryPages,
      });
      if (metered.ok) writeAtomically(this.#dir, path, metered.bytes);
      else prepared = metered;
    }
    this.#prepared.set(key, prepared);
    return prepared;
  }
}

// Another run may be writing the same entry; a rename makes the file appear whole or not at all.
function writeAtomically(dir: string, path: string, bytes: Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}
