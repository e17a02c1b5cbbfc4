// `troupe export js:NAME --nats URL --out FILE`: copies a journal kept in JetStream (a cluster's
// `--journal js:NAME`) to a journal file, for `troupe replay` and `troupe inspect`. The stream's
// messages are the file's records, framed and chained the same way, so the copy is checked as it
// is made: a damaged journal is refused, and nothing is written.
import { existsSync, writeFileSync } from 'node:fs';
import { CredentialsError, connectNats, readStreamJournal, StreamJournalError } from '../cluster/index.js';
import { decodeJournal, errorText } from '../protocol/index.js';
import { journalStream } from './cluster-journal.js';
import { CommandError, UsageError } from './usage-error.js';

export async function exportCommand(flags: {
  journal: string;
  nats?: string;
  out?: string;
}): Promise<number> {
  const stream = journalStream(flags.journal);
  if (!stream) throw new UsageError(`"${flags.journal}" is not a journal in JetStream (js:NAME)`, 'export');
  if (!flags.nats)
    throw new UsageError('troupe export needs --nats URL, the server the stream is on', 'export');
  if (!flags.out) throw new UsageError('troupe export needs --out FILE, the journal file to write', 'export');
  if (existsSync(flags.out))
    throw new UsageError(`${flags.out} already exists; remove it or choose another file`, 'export');
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats(flags.nats, 'troupe export');
  } catch (error) {
    if (error instanceof CredentialsError) throw new CommandError(error.message);
    throw new CommandError(`cannot reach NATS at ${flags.nats}: ${errorText(error)}`);
  }
  try {
    const stored = await readStreamJournal(nc, undefined, stream);
    if (!stored) throw new CommandError(`there is no stream ${stream} on ${flags.nats}`);
    const read = decodeJournal(stored.bytes);
    if (read.corrupt)
      throw new CommandError(
        `js:${stream}: record ${read.corrupt.index} is damaged: ${read.corrupt.reason}; nothing written`,
      );
    writeFileSync(flags.out, stored.bytes, { flag: 'wx' });
    const end = stored.ended ? `; the run ended at tick ${stored.ended.ticks}` : '; the run did not end';
    process.stdout.write(`js:${stream}: ${stored.records} records written to ${flags.out}${end}\n`);
    return 0;
  } catch (error) {
    if (error instanceof StreamJournalError) throw new CommandError(error.message);
    throw error;
  } finally {
    await nc.close();
  }
}
