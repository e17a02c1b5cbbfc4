// Cost of the journal: routed envelopes per second with it off and under each write policy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriter, journalHeader, SYNC_POLICIES } from '../dist/supervisor/index.js';
import { routed } from './routed.mjs';

const fmt = (n) => Math.round(n).toLocaleString('en-US');

export async function run() {
  const work = mkdtempSync(join(tmpdir(), 'troupe-bench-journal-'));
  try {
    // 1,000 envelopes per tick: the tick rate, where journaling costs most, is high.
    const off = await routed(work, 1000, 1000);
    console.log(`journal off: ${fmt(off)} envelopes/s`);
    for (const policy of SYNC_POLICIES) {
      const file = join(work, `${policy}.journal`);
      const rate = await routed(work, 1000, 1000, (spec) => {
        const writer = new JournalWriter(file, policy);
        writer.write(journalHeader(spec, 'bench'));
        return writer;
      });
      console.log(
        `journal, write policy ${policy}: ${fmt(rate)} envelopes/s = ${(rate / off).toFixed(2)}x of off`,
      );
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
