// Opening a journal for time travel: it is replayed once (real hosts, checked against the
// recording as `troupe replay` does) while a TravelIndex notes every tick, and the index is served
// as a session the window moves through. With `compare`, it opens where two journals part; after
// a failed replay, at the first divergence. The CLI (`troupe inspect --dashboard`) and the
// desktop app (File > Open journal) both open journals here.
import { type Launcher, NodeLauncher } from '../launch/index.js';
import { decodeJournal } from '../protocol/index.js';
import {
  compareJournals,
  JournalOpenError,
  openJournalFor,
  type Parting,
  ReplaySource,
  Runtime,
  readJournalFile,
} from '../supervisor/index.js';
import { TravelIndex } from './travel-index.js';
import { TravelSession } from './travel-session.js';
import { treeRows } from './view-model.js';
import type { TravelInfo } from './wire.js';

export interface TravelOptions {
  journal: string;
  /** Another journal of the same system: the window opens where the two part. */
  compare?: string;
  root?: string;
  /** Open even if the system changed since the recording: the replay shows where it diverges. */
  force?: boolean;
  /** The agent host's entry. */
  hostEntry: string;
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
      throw new JournalOpenError(`${file}: not a Troupe journal (no header record)`);
    return journal.records;
  };
  return compareJournals(read(first), read(second));
}

/** Replays the journal into a TravelIndex. */
export async function indexJournal(options: TravelOptions) {
  const { records, spec, checkpointEvery } = openJournalFor(options.journal, {
    root: options.root,
    force: options.force ?? false,
    cutTornTail: false,
  });
  const replay = new ReplaySource(records);
  const names = spec.agents.map((agent) => agent.name);
  const index = new TravelIndex(names, options.keyframeEvery ?? 1000);
  for (const record of records) {
    if (record.checkpoint) {
      const { tick, agents, hashes } = record.checkpoint;
      index.checkpoint(Number(tick ?? 0), agents ?? [], hashes ?? []);
    } else if (record.kill) {
      const { tick, agent } = record.kill;
      index.mark(Number(tick ?? 0), 'kill', agent ?? '', 'killed from outside (recorded)');
    }
  }
  const mailboxes = () => names.map((agent) => ({ agent, envelopes: runtime.mailbox(agent).queued }));
  const runtime: Runtime = new Runtime(spec, {
    launcher: options.launcher ?? new NodeLauncher(),
    hostEntry: options.hostEntry,
    replay,
    maxTicks: replay.lastTick,
    checkpointEvery,
    onBatch: (tick, agent, envelopes) => index.onBatch(tick, agent, envelopes),
    onEvent: (event) => {
      index.onEvent(event);
      if (event.type === 'tick') index.tickDispatched(event.tick, mailboxes);
    },
  });
  const summary = await runtime.start();
  index.keyframe(summary.ticks, mailboxes());
  return { index, spec, summary };
}

/** Opens a journal for time travel: replays it into an index, served as a session. */
export async function openTravel(
  options: TravelOptions,
): Promise<{ session: TravelSession; info: TravelInfo }> {
  const parting = options.compare ? journalParting(options.journal, options.compare) : undefined;
  const { index, spec, summary } = await indexJournal(options);
  const departed = summary.divergence;
  const divergence = departed && { tick: departed.tick ?? index.lastTick, reason: departed.reason };
  const info: TravelInfo = {
    system: spec.name,
    journal: options.journal,
    lastTick: index.lastTick,
    rows: treeRows(spec.supervisor),
    marks: [...index.marks],
    openAt: Math.min(index.lastTick, divergence?.tick ?? parting?.tick ?? 1),
    ...(divergence ? { divergence } : {}),
    ...(parting && options.compare ? { parting: { ...parting, other: options.compare } } : {}),
  };
  return { session: new TravelSession(index, info), info };
}
