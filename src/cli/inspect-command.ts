// `troupe inspect <journal>`: what a journal holds — its header, ticks, crashes, external inputs
// and kills.
import { decodeJournal } from '../protocol/index.js';
import { readJournalFile } from '../supervisor/index.js';
import { oneLine } from './terminal-text.js';

export function inspectCommand(file: string, json: boolean): number {
  const read = decodeJournal(readJournalFile(file));
  const header = read.records[0]?.header;
  if (!header) {
    process.stderr.write(`${file}: not a Troupe journal (no header record)\n`);
    return 1;
  }
  const lines: object[] = [{ type: 'journal.header', ...header }];
  let ticks = 0;
  let checkpoints = 0;
  for (const record of read.records.slice(1)) {
    if (record.tick) ticks++;
    else if (record.checkpoint) checkpoints++;
    else if (record.crash) lines.push({ type: 'journal.crash', ...record.crash });
    else if (record.inject) {
      const { tick, from, to, kind, payload } = record.inject;
      lines.push({ type: 'journal.inject', tick, from, to, kind, bytes: payload?.length ?? 0 });
    } else if (record.kill) lines.push({ type: 'journal.kill', ...record.kill });
  }
  lines.push({ type: 'journal.end', records: read.records.length, ticks, checkpoints, ...problems(read) });
  for (const line of lines)
    process.stdout.write(`${json ? JSON.stringify(line) : oneLine(describe(line))}\n`);
  return read.corrupt ? 1 : 0;
}

function problems(read: ReturnType<typeof decodeJournal>): object {
  if (read.corrupt) return { corrupt: read.corrupt };
  if (read.tornTail) return { tornTail: read.tornTail };
  return {};
}

function describe(line: object): string {
  const { type, ...rest } = line as { type: string };
  const fields = Object.entries(rest)
    .filter(([, value]) => typeof value !== 'object' || value === null)
    .map(([key, value]) => `${key}=${value}`);
  const nested = Object.entries(rest)
    .filter(([, value]) => typeof value === 'object' && value !== null)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return `${type.replace('journal.', '').padEnd(7)} ${[...fields, ...nested].join(' ')}`;
}
