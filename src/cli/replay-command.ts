// `troupe replay <journal>`: re-executes a recorded run and checks every tick against it.
import { type Isolation, openJournalFor, ReplaySource } from '../supervisor/index.js';
import { runSystem } from './run-command.js';
import { withFlags } from './run-flags.js';
import { oneLine } from './terminal-text.js';

export interface ReplayFlags {
  journal: string;
  system?: string;
  root?: string;
  force: boolean;
  json: boolean;
  /** Replay with every agent in this isolation (the journal does not depend on it). */
  isolation?: Isolation;
}

export async function replayCommand(flags: ReplayFlags): Promise<number> {
  const opened = openJournalFor(flags.journal, { ...flags, cutTornTail: false });
  const { records, checkpointEvery } = opened;
  const spec = withFlags(opened.spec, { isolation: flags.isolation });
  const replay = new ReplaySource(records);
  const { lastTick } = replay;
  const summary = await runSystem(spec, { replay, maxTicks: lastTick, checkpointEvery }, flags);
  // The recorded run may itself have ended in a failure; the replay is good when it is the same run.
  const divergence = summary.divergence?.reason;
  const ok = divergence === undefined && summary.ticks === lastTick;
  const reason = divergence ?? (ok ? '' : `the replay stopped at tick ${summary.ticks}: ${summary.reason}`);
  const { ticks, trace } = summary;
  const line = flags.json
    ? JSON.stringify({ type: 'replay.end', ok, ticks, trace, reason })
    : ok
      ? `replay ok: ${ticks} ticks, trace ${trace}`
      : `replay FAILED: ${oneLine(reason)}`;
  process.stdout.write(`${line}\n`);
  return ok ? 0 : 2;
}
