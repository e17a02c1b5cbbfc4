// The journal's first record: what the run was made with, so a replay can refuse a journal made
// for other modules or another config. Hashes ignore where files live, so a journal replays on
// another machine.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ABI_VERSION } from '../../abi/index.js';
import type { JournalRecord } from '../../protocol/index.js';
import type { SystemSpec } from '../config/index.js';
import { modelHash } from '../inference/model-files.js';
import { DEFAULT_CHECKPOINT_EVERY } from '../replay/index.js';

export const JOURNAL_FORMAT = 2;

export function journalHeader(
  spec: SystemSpec,
  troupeVersion: string,
  checkpointEvery = DEFAULT_CHECKPOINT_EVERY,
): JournalRecord {
  const moduleHashes = journalModuleHashes(spec);
  return {
    header: {
      format: JOURNAL_FORMAT,
      troupeVersion,
      abiVersion: ABI_VERSION,
      system: spec.name,
      seed: spec.seed,
      configHash: configHash(spec),
      moduleHashes,
      systemFile: spec.file,
      checkpointEvery,
    },
  };
}

/** SHA-256 (hex) of each agent's module, by agent name, and of each model (modelHash), by "@gpu/<model>". */
export function journalModuleHashes(spec: SystemSpec): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const agent of spec.agents) hashes[agent.name] = sha256Hex(readFileSync(agent.modulePath));
  for (const model of spec.models) hashes[`@gpu/${model.name}`] = identity(model);
  return hashes;
}

/** A model's files' hash; a remote model's name on its server (its weights are not ours to read). */
function identity(model: SystemSpec['models'][number]): string {
  return model.remote ? sha256Hex(Buffer.from(`openai:${model.remote.model}`)) : modelHash(model.path);
}

/** SHA-256 of everything in the spec that changes a run, and nothing that only says where files are. */
export function configHash(spec: SystemSpec): string {
  const agents = spec.agents.map((agent) => ({
    name: agent.name,
    init: Buffer.from(agent.initData).toString('base64'),
    restart: agent.restart,
    limits: agent.limits,
    sendTo: agent.sendTo === '*' ? '*' : [...agent.sendTo].sort(),
    snapshotEvery: agent.snapshotEvery,
    models: [...agent.models].sort(),
    // Only when granted, so journals recorded before tools existed keep their hash.
    ...(agent.tools.size > 0 ? { tools: [...agent.tools].sort() } : {}),
  }));
  // Where a remote model is served, and its key, are not part of the run (its answers are
  // journaled); which model it is, is.
  // Nor is the prefix cache: the text is the same with it and without it.
  const models = spec.models.map(({ path: _, remote, prefixCache: __, ...model }) =>
    remote ? { ...model, served: remote.model } : model,
  );
  // How a server is reached is not part of the run (a replay starts none): its name and bounds are.
  const tools = spec.tools.map(({ transport: _, ...tool }) => tool);
  const canonical = JSON.stringify({
    seed: spec.seed,
    scheduler: spec.scheduler,
    supervisor: spec.supervisor,
    agents,
    models,
    ...(tools.length > 0 ? { tools } : {}),
  });
  return sha256Hex(Buffer.from(canonical));
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
