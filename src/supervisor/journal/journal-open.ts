// Opening an existing journal for replay or resume: damaged records are refused by name, a torn
// tail is reported (and cut when resuming), and the journal must match the system's config and
// modules unless the user forces it. Used by the CLI, the cluster's coordinator and standby, and
// the desktop app's time travel.
import { readFileSync, realpathSync, truncateSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { decodeJournal, errorText, type JournalChain, type JournalRecord } from '../../protocol/index.js';
import { ConfigError, loadSystem, type SystemSpec } from '../config/index.js';
import { configHash, journalModuleHashes } from './journal-header.js';

/** A journal that cannot be opened for this use: the message says why (no stack is needed). */
export class JournalOpenError extends Error {}

export interface OpenedJournal {
  records: JournalRecord[];
  /** Where a writer continuing the journal goes on. */
  chain: JournalChain;
  spec: SystemSpec;
  checkpointEvery: number | undefined;
}

/** The journal's bytes, or an error that says why they cannot be read. */
export function readJournalFile(journal: string): Buffer {
  try {
    return readFileSync(journal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : errorText(error);
    throw new JournalOpenError(`cannot read journal ${journal}: ${why}`);
  }
}

export interface JournalCheck {
  /** The system file to check against (default: the one the journal names). */
  system?: string;
  root?: string;
  force: boolean;
}

export function openJournalFor(
  journal: string,
  options: JournalCheck & { cutTornTail: boolean },
): OpenedJournal {
  const cut = options.cutTornTail ? (length: number) => truncateSync(journal, length) : undefined;
  return checkJournal(readJournalFile(journal), journal, { ...options, cut });
}

/**
 * A journal's records, checked against the system; `journal` names it in messages. `cut` shortens
 * its store to the valid length when the last record is torn (a file; a stream holds no torn one).
 */
export function checkJournal(
  bytes: Uint8Array,
  journal: string,
  options: JournalCheck & { cut?: (validLength: number) => void },
): OpenedJournal {
  const read = decodeJournal(bytes);
  if (read.corrupt) {
    const { index, offset, reason } = read.corrupt;
    // Nothing is cut: a damaged journal is the user's to inspect or repair, never ours to shorten.
    throw new JournalOpenError(
      `${journal}: record ${index} (at byte ${offset}) is damaged: ${reason}; the journal was left as it is`,
    );
  }
  const header = read.records[0]?.header;
  if (!header) throw new JournalOpenError(`${journal}: not a Troupe journal (no header record)`);
  if (read.tornTail) {
    const what = `${journal}: the last ${read.tornTail.bytes} bytes are a torn record`;
    options.cut?.(read.validLength);
    process.stderr.write(`${what}; ${options.cut ? 'cut it' : 'using what precedes it'}\n`);
  }
  const file = options.system ?? header.systemFile;
  if (!file) throw new JournalOpenError(`${journal} names no system file; give one with --system`);
  const loaded =
    options.system === undefined
      ? loadNamedSystem(journal, file, options.root)
      : loadSystem(file, { root: options.root });
  const spec: SystemSpec = { ...loaded, seed: header.seed ?? 0 };
  const mismatches = compare(spec, header.configHash ?? '', header.moduleHashes ?? {});
  if (mismatches.length > 0) {
    const list = mismatches.map((line) => `  ${line}`).join('\n');
    if (!options.force)
      throw new JournalOpenError(
        `${journal} was not made with this system:\n${list}\n(--force goes on anyway)`,
      );
    process.stderr.write(`going on anyway (--force):\n${list}\n`);
  }
  return {
    records: read.records,
    chain: read.chain,
    spec,
    checkpointEvery: header.checkpointEvery || undefined,
  };
}

function compare(
  spec: SystemSpec,
  recordedConfig: string,
  recordedModules: Record<string, string>,
): string[] {
  const now = journalModuleHashes(spec);
  const lines: string[] = [];
  const config = configHash(spec);
  if (config !== recordedConfig)
    lines.push(`config differs (recorded ${short(recordedConfig)}, now ${short(config)})`);
  for (const [agent, hash] of Object.entries(now)) {
    const recorded = recordedModules[agent];
    if (recorded === undefined) lines.push(`agent "${agent}" is not in the recording`);
    else if (recorded !== hash)
      lines.push(`module of "${agent}" differs (recorded ${short(recorded)}, now ${short(hash)})`);
  }
  for (const agent of Object.keys(recordedModules))
    if (!(agent in now)) lines.push(`agent "${agent}" is gone`);
  return lines;
}

function short(hash: string): string {
  return hash.slice(0, 12);
}

/**
 * The system file a journal names (its header is data: issue 26): used only inside the current
 * folder, said on standard error, and a file that does not load as a system is refused without
 * quoting it (a header naming /etc/passwd made the error quote its first line).
 */
function loadNamedSystem(journal: string, file: string, root: string | undefined) {
  const here = process.cwd();
  let real: string;
  try {
    real = realpathSync(resolve(file));
  } catch {
    throw new JournalOpenError(
      `${journal} names the system file ${file}, which cannot be read; give one with --system`,
    );
  }
  const inside = relative(realpathSync(here), real);
  if (inside.startsWith('..') || isAbsolute(inside))
    throw new JournalOpenError(
      `${journal} names the system file ${file}, outside this folder (${here}); give it with --system to use it`,
    );
  process.stderr.write(`troupe: using the system file ${file}, as ${journal} names it\n`);
  try {
    return loadSystem(file, { root });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new JournalOpenError(
      `${journal} names the system file ${file}, which is not a valid Troupe system (troupe validate ${file} says why); give one with --system`,
    );
  }
}
