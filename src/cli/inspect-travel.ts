// `troupe inspect <journal> --dashboard`: time travel, served on 127.0.0.1 (the journal is opened
// for it by dashboard/travel-open.ts: replayed once into an index). With `--compare OTHER` it
// opens where the two journals part; after a failed replay, at the first divergence.
// `troupe inspect <journal> --compare OTHER` alone says where they part, or that they agree.
import { fileURLToPath } from 'node:url';
import { journalParting, openTravel, startDashboardServer } from '../dashboard/index.js';
import type { Launcher } from '../launch/index.js';
import { errorText } from '../protocol/index.js';
import { HOST_ENTRY, onSignals } from './run-output.js';
import { oneLine } from './terminal-text.js';
import { CommandError } from './usage-error.js';

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));

export interface TravelFlags {
  journal: string;
  compare?: string;
  dashboard: boolean;
  port?: number;
  json: boolean;
  root?: string;
  /** Open even if the system changed since the recording: the replay shows where it diverges. */
  force?: boolean;
  /** The agent host's entry (default: the built one beside this file). */
  hostEntry?: string;
  /** How hosts are started (default: Node child processes; the desktop app passes its own). */
  launcher?: Launcher;
  /** Mailboxes are copied whole every this many ticks (a seek reads at most that many ticks). */
  keyframeEvery?: number;
}

export function compareCommand(flags: TravelFlags): number {
  const other = flags.compare as string;
  const parting = journalParting(flags.journal, other);
  const line = flags.json
    ? JSON.stringify({ type: 'journal.compare', same: !parting, ...(parting ?? {}) })
    : parting
      ? `the journals part at tick ${parting.tick}: ${oneLine(parting.reason)}`
      : 'the journals agree on every tick';
  process.stdout.write(`${line}\n`);
  return parting ? 1 : 0;
}

export async function travelCommand(flags: TravelFlags): Promise<number> {
  process.stderr.write(`inspect: replaying ${flags.journal} to index it for time travel…\n`);
  const { session, info } = await openTravel({ ...flags, hostEntry: flags.hostEntry ?? HOST_ENTRY });
  const { divergence } = info;
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    server = await startDashboardServer(session, { uiDir: UI_DIR, port: flags.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${flags.port} is in use` : errorText(error);
    throw new CommandError(`the dashboard cannot listen on 127.0.0.1: ${why}`);
  }
  const line = flags.json
    ? JSON.stringify({
        type: 'dashboard.ready',
        url: server.url,
        lastTick: info.lastTick,
        ...(divergence ? { divergence } : {}),
      })
    : `time travel through ${info.lastTick} ticks${divergence ? ` (the replay diverged at tick ${divergence.tick})` : ''}: ${server.url}`;
  process.stdout.write(`${line}\n`);
  await new Promise<void>((resolve) => {
    const stop = onSignals(() => {
      stop();
      resolve();
    });
  });
  await server.close();
  return divergence ? 2 : 0;
}
