// `troupe inspect <journal> --dashboard`: time travel. The journal is replayed once (real hosts,
// checked against the recording as `troupe replay` does) while a TravelIndex notes every tick;
// the window then moves through the run from that index. With `--compare OTHER` it opens where
// the two journals part; after a failed replay, at the first divergence.
// `troupe inspect <journal> --compare OTHER` alone says where they part, or that they agree.
import { fileURLToPath } from 'node:url';
import {
  startDashboardServer,
  TravelIndex,
  type TravelInfo,
  TravelSession,
  treeRows,
} from '../dashboard/index.js';
import { type Launcher, NodeLauncher } from '../launch/index.js';
import { decodeJournal, errorText } from '../protocol/index.js';
import { compareJournals, type Parting, ReplayDriver, ReplayPlan, Runtime } from '../supervisor/index.js';
import { openJournalFor, readJournalFile } from './journal-open.js';
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

/** Where two journals part, read from their records (no replay). */
export function journalParting(first: string, second: string): Parting | undefined {
  const read = (file: string) => {
    const journal = decodeJournal(readJournalFile(file));
    if (!journal.records[0]?.header)
      throw new CommandError(`${file}: not a Troupe journal (no header record)`);
    return journal.records;
  };
  return compareJournals(read(first), read(second));
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

/** Replays the journal into a TravelIndex. */
export async function indexJournal(flags: TravelFlags) {
  const { records, spec, checkpointEvery } = openJournalFor(flags.journal, {
    root: flags.root,
    force: flags.force ?? false,
    cutTornTail: false,
  });
  const plan = new ReplayPlan(records);
  const names = spec.agents.map((agent) => agent.name);
  const index = new TravelIndex(names, flags.keyframeEvery ?? 1000);
  for (const record of records) {
    if (record.checkpoint) {
      const { tick, agents, hashes } = record.checkpoint;
      index.checkpoint(Number(tick ?? 0), agents ?? [], hashes ?? []);
    } else if (record.kill) {
      const { tick, agent } = record.kill;
      index.mark(Number(tick ?? 0), 'kill', agent ?? '', 'killed from outside (recorded)');
    }
  }
  const driver = new ReplayDriver(plan);
  const mailboxes = () => names.map((agent) => ({ agent, envelopes: runtime.mailbox(agent).queued }));
  const runtime: Runtime = new Runtime(spec, {
    launcher: flags.launcher ?? new NodeLauncher(),
    hostEntry: flags.hostEntry ?? HOST_ENTRY,
    replay: driver,
    maxTicks: plan.lastTick,
    checkpointEvery,
    onBatch: (tick, agent, envelopes) => index.onBatch(tick, agent, envelopes),
    onEvent: (event) => {
      index.onEvent(event);
      if (event.type === 'tick') index.tickDispatched(event.tick, mailboxes);
    },
  });
  const summary = await runtime.start();
  index.keyframe(summary.ticks, mailboxes());
  return { index, spec, plan, driver, summary };
}

/** Opens a journal for time travel: replays it into an index, served as a session. */
export async function openTravel(flags: TravelFlags): Promise<{ session: TravelSession; info: TravelInfo }> {
  const parting = flags.compare ? journalParting(flags.journal, flags.compare) : undefined;
  const { index, spec, driver } = await indexJournal(flags);
  const divergence =
    driver.divergence !== undefined
      ? { tick: driver.divergenceTick ?? index.lastTick, reason: driver.divergence }
      : undefined;
  const info: TravelInfo = {
    system: spec.name,
    journal: flags.journal,
    lastTick: index.lastTick,
    rows: treeRows(spec.supervisor),
    marks: [...index.marks],
    openAt: Math.min(index.lastTick, divergence?.tick ?? parting?.tick ?? 1),
    ...(divergence ? { divergence } : {}),
    ...(parting && flags.compare ? { parting: { ...parting, other: flags.compare } } : {}),
  };
  return { session: new TravelSession(index, info), info };
}

export async function travelCommand(flags: TravelFlags): Promise<number> {
  process.stderr.write(`inspect: replaying ${flags.journal} to index it for time travel…\n`);
  const { session, info } = await openTravel(flags);
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
