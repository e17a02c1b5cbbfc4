// A standby that follows its coordinator's run (`troupe cluster … --standby --follow`): it reads
// the journal in JetStream as it is stored and replays the run with hosts of its own on the nodes,
// a tick behind the recording. When the coordinator falls silent it reads what is left, takes the
// stream over (writing on from its last record, fenced as any writer is) and goes on live: the
// takeover replays only the ticks not yet followed, however long the run has been going.
import {
  type FollowedJournal,
  followStreamJournal,
  judgeEvery,
  type NatsConnection,
  type StoredJournal,
  StreamJournal,
  watchCoordinator,
} from '../cluster/index.js';
import { JOURNAL_MAGIC, type JournalRecord } from '../protocol/index.js';
import {
  checkJournal,
  type JournalSink,
  ReplayDriver,
  ReplayPlan,
  type RunSummary,
  type Runtime,
} from '../supervisor/index.js';
import type { ClusterJournal } from './cluster-journal.js';
import { type RunFlags, withFlags } from './run-flags.js';
import { CommandError } from './usage-error.js';

/** How often the standby looks at the coordinator's silence. */
const LOOK_MS = 300;
/** How often it says how far it has followed (while that changes): JSON lines, and on a terminal. */
const PROGRESS_MS = { json: 1000, text: 10_000 };
/** How many times a following standby that lost step with the run follows it again. */
const FOLLOW_AGAIN = 3;
/** How long the end of the stream is waited for once the run is done. */
const SETTLE_MS = 5000;

export type FollowOutcome =
  /** The coordinator fell silent; this standby took the run over. */
  | { tookOver: true }
  /** The run ended on its coordinator. */
  | { ended: NonNullable<StoredJournal['ended']> }
  /** This standby could not follow the run (its replay departed from it, or the stream failed). */
  | { lost: string }
  /** This standby was stopped (interrupted) before any of that. */
  | { stopped: string };

export interface Following {
  /** The run as its journal's header says, replayed as it is recorded. */
  run: ClusterJournal;
  /** Feeds the runtime the recording as it grows, and takes over when the coordinator is silent. */
  attach(runtime: Runtime): void;
  /** Whether the run's events are kept quiet (they are the coordinator's run's, until a takeover). */
  muted(): boolean;
  /**
   * How following ended, once the run is done: what the stream holds by then is read first (a
   * coordinator says its run ended before it stops the nodes, so the end is known even when this
   * standby's hosts went down with them).
   */
  outcome(summary: RunSummary): Promise<FollowOutcome>;
}

interface FollowOptions {
  nc: NatsConnection;
  system: string;
  stream: string;
  flags: Pick<RunFlags, 'file' | 'root' | 'force' | 'isolation' | 'json'>;
  say: (line: object, text: string) => void;
  /** This standby's heartbeat becomes the coordinator's. */
  promote: () => void;
}

/** Waits for the journal's first message (its header), and prepares the run to follow. */
export async function startFollowing(options: FollowOptions): Promise<Following> {
  const { nc, system, stream, say } = options;
  const label = `js:${stream}`;
  let runtime: Runtime | undefined;
  const early: JournalRecord[][] = [];
  let ended: NonNullable<StoredJournal['ended']> | undefined;
  let lost: string | undefined;
  let tookOver = false;
  let journal: StreamJournal | undefined;
  let header: ((bytes: Uint8Array) => void) | undefined;
  let failedBeforeHeader: ((reason: string) => void) | undefined;
  const first = new Promise<Uint8Array>((resolve, reject) => {
    header = resolve;
    failedBeforeHeader = (reason) => reject(new CommandError(reason));
  });
  const lose = (reason: string) => {
    lost ??= reason;
    runtime?.requestStop(reason, false);
  };
  let begun = false;
  const follower: FollowedJournal = followStreamJournal(nc, system, stream, {
    records: ({ bytes, records }) => {
      if (!begun) {
        begun = true;
        header?.(bytes);
      } else if (runtime) runtime.followRecording(records);
      else early.push(records);
    },
    ended: (end) => {
      ended = end;
      runtime?.requestStop('the run ended on its coordinator', end.ok);
    },
    failed: (reason) => {
      failedBeforeHeader?.(reason);
      lose(reason);
    },
  });
  let checked: ReturnType<typeof checkJournal>;
  try {
    const bytes = await first;
    checked = checkJournal(Buffer.concat([JOURNAL_MAGIC, bytes]), label, {
      system: options.flags.file,
      root: options.flags.root,
      force: options.flags.force ?? false,
    });
  } catch (error) {
    await follower.stop();
    throw error;
  }
  failedBeforeHeader = undefined;
  const driver = new ReplayDriver(new ReplayPlan(checked.records), { following: true });
  // Until the takeover the run adds nothing of its own: if it does (a host of its own died), it
  // is no longer the recorded run.
  const sink = new FollowingSink(() => lose(`standby: its replay departed from ${label}`));
  let stopTimers = (): void => {};
  const coordinator = watchCoordinator(nc, system);

  const takeOver = async (started: Runtime) => {
    tookOver = true;
    coordinator.stop();
    const at = await follower.caughtUp();
    // The run ended on its coordinator just before it went quiet: nothing to take over.
    if (ended) {
      tookOver = false;
      return;
    }
    await follower.stop();
    journal = new StreamJournal(nc, system, stream, {
      lastSequence: at.lastSequence,
      chain: at.chain,
      onFailed: (reason) => started.requestStop(`journal ${label}: ${reason}`, false),
    });
    sink.attach(journal);
    options.promote();
    say(
      { type: 'coordinator.takeover', journal: label, tick: started.tick, recorded: driver.plan.lastTick },
      `standby: the coordinator is gone; taking its run over at tick ${started.tick} of ${driver.plan.lastTick} recorded`,
    );
    started.recordingWhole();
  };

  return {
    run: {
      // The isolation may differ from the coordinator's (it is not part of the recording).
      spec: withFlags(checked.spec, { isolation: options.flags.isolation }),
      journal: sink,
      replay: driver,
      checkpointEvery: checked.checkpointEvery,
      finish: async (summary) => {
        if (journal && !journal.failure)
          await journal.ended({ ticks: summary.ticks, trace: summary.trace, ok: summary.ok });
      },
    },
    attach: (started) => {
      runtime = started;
      for (const records of early.splice(0)) started.followRecording(records);
      if (ended) started.requestStop('the run ended on its coordinator', ended.ok);
      if (lost) started.requestStop(lost, false);
      let said = '';
      const looks = judgeEvery(LOOK_MS, () => {
        if (!tookOver && !ended && !lost && coordinator.quiet())
          takeOver(started).catch((error: unknown) => lose(`standby: taking over failed: ${error}`));
      });
      const progress = setInterval(
        () => {
          const now = `${started.tick}/${driver.plan.lastTick}`;
          if (tookOver || now === said || driver.plan.lastTick === 0) return;
          said = now;
          say(
            { type: 'standby.following', tick: started.tick, recorded: driver.plan.lastTick },
            `standby: replayed to tick ${started.tick} of ${driver.plan.lastTick} recorded`,
          );
        },
        PROGRESS_MS[options.flags.json ? 'json' : 'text'],
      );
      stopTimers = () => {
        looks.stop();
        clearInterval(progress);
      };
    },
    muted: () => !tookOver,
    outcome: async (summary) => {
      stopTimers();
      coordinator.stop();
      if (!tookOver) {
        let waited: NodeJS.Timeout | undefined;
        const timeout = new Promise((resolve) => {
          waited = setTimeout(resolve, SETTLE_MS);
        });
        await Promise.race([follower.caughtUp(), timeout]).catch(() => {});
        clearTimeout(waited);
      }
      await follower.stop();
      if (tookOver) return { tookOver: true };
      if (ended) return { ended };
      const departed = lost ?? driver.divergence;
      return departed ? { lost: departed } : { stopped: summary.reason };
    },
  };
}

/** The journal of a followed run: nothing of its own until it takes over, then the stream's. */
class FollowingSink implements JournalSink {
  readonly #departed: () => void;
  #journal: JournalSink | undefined;

  constructor(departed: () => void) {
    this.#departed = departed;
  }

  attach(journal: JournalSink): void {
    this.#journal = journal;
  }

  write(record: JournalRecord): void {
    if (this.#journal) this.#journal.write(record);
    else this.#departed();
  }

  tickDone(): void {
    this.#journal?.tickDone();
  }

  close(): void {
    this.#journal?.close();
  }
}

type Say = (line: object, text: string) => void;

/** Says the run ended on its coordinator; the exit code is the run's. */
export function runEnded(ended: NonNullable<StoredJournal['ended']>, say: Say): number {
  say(
    { type: 'standby.ended', ...ended },
    `standby: the run ended on its coordinator (tick ${ended.ticks}); nothing to take over`,
  );
  return ended.ok ? 0 : 2;
}

/**
 * Runs `first` (with `run`) until this standby has taken the run over and ended it (its summary),
 * or it is done otherwise (the exit code): the run ended on its coordinator, this standby was
 * interrupted, or it lost step with the run more than FOLLOW_AGAIN times (each time it follows
 * again from the start, with `again`).
 */
export async function followToTakeover(
  first: Following,
  run: (following: Following) => Promise<RunSummary>,
  again: () => Promise<Following>,
  say: Say,
): Promise<{ summary: RunSummary } | { code: number }> {
  let following = first;
  for (let lost = 1; ; lost++) {
    const summary = await run(following);
    const outcome = await following.outcome(summary);
    if ('tookOver' in outcome) return { summary };
    if ('ended' in outcome) return { code: runEnded(outcome.ended, say) };
    if ('stopped' in outcome) return { code: 2 };
    const retry = lost <= FOLLOW_AGAIN;
    say(
      { type: 'standby.lost', reason: outcome.lost, again: retry },
      `standby: lost step with the run: ${outcome.lost}${retry ? '; following it again from the start' : ''}`,
    );
    if (!retry) return { code: 2 };
    following = await again();
  }
}
