// `troupe replay <journal>`: re-executes a recorded run and checks every tick against it.
import { readFileSync } from 'node:fs';
import { decodeJournal } from '../protocol/index.js';
import {
  configHash,
  journalModuleHashes,
  loadSystem,
  ReplayDriver,
  ReplayPlan,
  type SystemSpec,
} from '../supervisor/index.js';
import { runSystem } from './run-command.js';
import { UsageError } from './usage-error.js';

export interface ReplayFlags {
  journal: string;
  system?: string;
  root?: string;
  force: boolean;
  json: boolean;
}

export async function replayCommand(flags: ReplayFlags): Promise<number> {
  const read = decodeJournal(readFileSync(flags.journal));
  if (read.corrupt) {
    const { index, offset, reason } = read.corrupt;
    throw new UsageError(`${flags.journal}: record ${index} (at byte ${offset}) is damaged: ${reason}`);
  }
  const header = read.records[0]?.header;
  if (!header) throw new UsageError(`${flags.journal}: not a Troupe journal (no header record)`);
  if (read.tornTail) {
    process.stderr.write(
      `${flags.journal}: the last ${read.tornTail.bytes} bytes are a torn record; replaying what precedes it\n`,
    );
  }
  const file = flags.system ?? header.systemFile;
  if (!file) throw new UsageError(`${flags.journal} names no system file; give one with --system`);
  const spec: SystemSpec = { ...loadSystem(file, { root: flags.root }), seed: header.seed ?? 0 };
  const mismatches = compare(spec, header.configHash ?? '', header.moduleHashes ?? {});
  if (mismatches.length > 0) {
    const list = mismatches.map((line) => `  ${line}`).join('\n');
    if (!flags.force)
      throw new UsageError(
        `${flags.journal} was not made with this system:\n${list}\n(--force replays it anyway)`,
      );
    process.stderr.write(`replaying anyway (--force):\n${list}\n`);
  }
  const plan = new ReplayPlan(read.records);
  const driver = new ReplayDriver(plan);
  const summary = await runSystem(spec, { replay: driver, maxTicks: plan.lastTick }, flags);
  // The recorded run may itself have ended in a failure; the replay is good when it is the same run.
  const ok = driver.divergence === undefined && summary.ticks === plan.lastTick;
  const reason =
    driver.divergence ?? (ok ? '' : `the replay stopped at tick ${summary.ticks}: ${summary.reason}`);
  const verdict = ok
    ? `replay ok: ${summary.ticks} ticks, trace ${summary.trace}`
    : `replay FAILED: ${reason}`;
  process.stdout.write(
    `${flags.json ? JSON.stringify({ type: 'replay.end', ok, ticks: summary.ticks, trace: summary.trace, reason }) : verdict}\n`,
  );
  return ok ? 0 : 2;
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
