// Where `troupe cluster` keeps its journal: a file, as `troupe run` does, or a JetStream stream on
// the cluster's NATS server (`--journal js:NAME`), which outlives the coordinator's machine, so a
// coordinator started anywhere, or a standby, can resume the run from it.
import {
  createStreamJournal,
  type NatsConnection,
  type RunJournal,
  readStreamJournal,
  type StoredJournal,
  StreamJournal,
  StreamJournalError,
  streamJournalName,
} from '../cluster/index.js';
import {
  checkJournal,
  journalHeader,
  ReplaySource,
  type RunSummary,
  type SystemSpec,
} from '../supervisor/index.js';
import { openJournal, openResumed, TROUPE_VERSION } from './run-command.js';
import type { RunFlags } from './run-flags.js';
import { withFlags } from './run-flags.js';
import { CommandError, UsageError } from './usage-error.js';

type JournalFlags = Pick<
  RunFlags,
  'file' | 'root' | 'force' | 'journal' | 'journalSync' | 'isolation' | 'resume'
>;

/** The stream named by `--journal js:NAME`, or undefined for a file (or no journal). */
export function journalStream(journal: string | undefined): string | undefined {
  try {
    return streamJournalName(journal);
  } catch (error) {
    throw new UsageError((error as Error).message, 'cluster');
  }
}

const nothingToFinish = async () => {};

/** A file journal, new or resumed: decided before connecting to anything. */
export function openFileJournal(flags: JournalFlags, spec: SystemSpec): RunJournal {
  if (flags.resume) return { ...openResumed(flags), finish: nothingToFinish };
  const journal = flags.journal ? openJournal(flags.journal, flags.journalSync, spec) : undefined;
  return { spec, journal, finish: nothingToFinish };
}

/**
 * A journal in a stream: new, or resumed (`--resume`, or `stored` as a standby read it).
 * `onFailed` hears why the journal stopped taking records (another coordinator wrote to it).
 */
export async function openStreamJournal(
  nc: NatsConnection,
  stream: string,
  flags: JournalFlags,
  spec: SystemSpec,
  onFailed: (reason: string) => void,
  stored?: StoredJournal,
): Promise<RunJournal> {
  const label = `js:${stream}`;
  try {
    if (!flags.resume && !stored) {
      const journal = await createStreamJournal(nc, spec.name, stream, onFailed);
      journal.write(journalHeader(spec, TROUPE_VERSION));
      return { spec, journal, finish: (summary) => finished(journal, summary) };
    }
    const found = stored ?? (await readStreamJournal(nc, spec.name, stream));
    if (!found || found.records === 0)
      throw new CommandError(`journal ${label} holds no run to resume (no such stream, or it is empty)`);
    const checked = checkJournal(found.bytes, label, {
      system: flags.file,
      root: flags.root,
      force: flags.force,
    });
    const journal = new StreamJournal(nc, spec.name, stream, {
      lastSequence: found.lastSequence,
      chain: checked.chain,
      onFailed,
    });
    return {
      // The isolation may change on resume (it is not part of the recording); the seed may not.
      spec: withFlags(checked.spec, { isolation: flags.isolation }),
      journal,
      replay: new ReplaySource(checked.records),
      checkpointEvery: checked.checkpointEvery,
      finish: (summary) => finished(journal, summary),
    };
  } catch (error) {
    if (error instanceof StreamJournalError) throw new CommandError(error.message);
    throw error;
  }
}

async function finished(journal: StreamJournal, summary: RunSummary): Promise<void> {
  // A journal another coordinator took over is not this one's to end.
  if (journal.failure) return;
  await journal.ended({ ticks: summary.ticks, trace: summary.trace, ok: summary.ok });
}
