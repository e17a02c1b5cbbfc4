// A standby that follows its coordinator's run (`troupe cluster … --standby --follow`): it reads
// the journal in JetStream as it is stored and replays the run with hosts of its own on the nodes,
// a tick behind the recording. When the coordinator falls silent it reads what is left, takes the
// stream over (writing on from its last record, fenced as any writer is) and goes on live: the
// takeover replays only the ticks not yet followed, however long the run has been going.
import { JOURNAL_MAGIC, type JournalRecord } from '../protocol/index.js';
import {
  checkJournal,
  type Isolation,
  type JournalSink,
  type OpenedJournal,
  ReplaySource,
  type RunSummary,
  type Runtime,
  type SystemSpec,
} from '../supervisor/index.js';
import { CoordinatorError } from './coordinator.js';
import { type FollowedJournal, followStreamJournal } from './journal-follow.js';
import { type StoredJournal, StreamJournal } from './journal-stream.js';
import type { Say } from './local-nodes.js';
import type { NatsConnection } from './nats-connect.js';
import { judgeEvery } from './silence.js';
import { watchCoordinator } from './standby.js';

/** How often the standby looks at the coordinator's silence. */
const LOOK_MS = 300;
/** How often it says how far it has followed (while that changes): JSON lines, and on a terminal. */
const PROGRESS_MS = { json: 1000, text: 10_000 };
/** How many times a following standby that lost step with the run follows it again. */
const FOLLOW_AGAIN = 3;
/** How long the end of the stream is waited for once the run is done. */
const SETTLE_MS = 5000;

/** A run to start: its system, its journal (and replay), and how its end is stored. */
export interface RunJournal {
  /** The system to run: as loaded, or as its journal recorded it when resuming. */
  spec: SystemSpec;
  journal?: JournalSink;
  replay?: ReplaySource;
  checkpointEvery?: number;
  /** Stores the run's end (in a stream: a standby then has nothing to take over). */
  finish(summary: RunSummary): Promise<void>;
}

export type FollowOutcome =
  /** The coordinator fell silent; this standby took the run over. */
  | { tookOver: true }
  /** The run ended on its coordinator. */
  | { ended: NonNullable<StoredJournal['ended']> }
  /** This standby could not follow the run (its replay departed from it, or the stream failed). */
  | { lost: string }
  /** This standby was stopped (interrupted) before any of that. */
  | { stopped: string };

export interface FollowOptions {
  nc: NatsConnection;
  system: string;
  stream: string;
  /** How the recorded system is checked: against this file, in this root, or forced. */
  file: string;
  root?: string;
  force?: boolean;
  /** Every agent's isolation here (not part of the recording). */
  isolation?: Isolation;
  json: boolean;
  say: Say;
  /** This standby's heartbeat becomes the coordinator's. */
  promote: () => void;
}

/** Waits for the journal's first message (its header), and prepares the run to follow. */
export async function startFollowing(options: FollowOptions): Promise<Following> {
  const following = new Following(options);
  await following.begin();
  return following;
}

export class Following {
  readonly #options: FollowOptions;
  readonly #label: string;
  readonly #follower: FollowedJournal;
  /** Records that came before the runtime was attached. */
  readonly #early: JournalRecord[][] = [];
  /** Settles with the journal's first message (its header), or why the stream failed before it. */
  #header: { resolve(bytes: Uint8Array): void; reject(error: Error): void } | undefined;
  readonly #first: Promise<Uint8Array>;
  #begun = false;
  #runtime: Runtime | undefined;
  #ended: NonNullable<StoredJournal['ended']> | undefined;
  #lost: string | undefined;
  #tookOver = false;
  #journal: StreamJournal | undefined;
  #source: ReplaySource | undefined;
  #run: RunJournal | undefined;
  /**
   * Until the takeover the run adds nothing of its own: if it does (a host of its own died), it is
   * no longer the recorded run.
   */
  readonly #sink = new FollowingSink(() => this.#lose(`standby: its replay departed from ${this.#label}`));
  readonly #coordinator: ReturnType<typeof watchCoordinator>;
  #stopTimers = (): void => {};

  constructor(options: FollowOptions) {
    this.#options = options;
    this.#first = new Promise((resolve, reject) => {
      this.#header = { resolve, reject };
    });
    this.#label = `js:${options.stream}`;
    this.#coordinator = watchCoordinator(options.nc, options.system);
    this.#follower = followStreamJournal(options.nc, options.system, options.stream, {
      records: ({ bytes, records }) => {
        if (!this.#begun) {
          this.#begun = true;
          this.#header?.resolve(bytes);
        } else if (this.#runtime) this.#runtime.followRecording(records);
        else this.#early.push(records);
      },
      ended: (end) => {
        this.#ended = end;
        this.#runtime?.requestStop('the run ended on its coordinator', end.ok);
      },
      failed: (reason) => {
        this.#header?.reject(new CoordinatorError(reason));
        this.#lose(reason);
      },
    });
  }

  /** Reads the journal's header and checks it against the system. */
  async begin(): Promise<void> {
    let checked: OpenedJournal;
    try {
      const bytes = await this.#first;
      const { file, root, force } = this.#options;
      checked = checkJournal(Buffer.concat([JOURNAL_MAGIC, bytes]), this.#label, {
        system: file,
        root,
        force: force ?? false,
      });
    } catch (error) {
      this.#coordinator.stop();
      await this.#follower.stop();
      throw error;
    } finally {
      this.#header = undefined;
    }
    const source = new ReplaySource(checked.records, { following: true });
    this.#source = source;
    const { isolation } = this.#options;
    this.#run = {
      // The isolation may differ from the coordinator's (it is not part of the recording).
      spec:
        isolation === undefined
          ? checked.spec
          : { ...checked.spec, agents: checked.spec.agents.map((agent) => ({ ...agent, isolation })) },
      journal: this.#sink,
      replay: source,
      checkpointEvery: checked.checkpointEvery,
      finish: async (summary) => {
        const journal = this.#journal;
        if (journal && !journal.failure)
          await journal.ended({ ticks: summary.ticks, trace: summary.trace, ok: summary.ok });
      },
    };
  }

  /** The run as its journal's header says, replayed as it is recorded. */
  get run(): RunJournal {
    if (!this.#run) throw new Error('following has not begun');
    return this.#run;
  }

  /** Feeds the runtime the recording as it grows, and takes over when the coordinator is silent. */
  attach(started: Runtime): void {
    this.#runtime = started;
    for (const records of this.#early.splice(0)) started.followRecording(records);
    if (this.#ended) started.requestStop('the run ended on its coordinator', this.#ended.ok);
    if (this.#lost) started.requestStop(this.#lost, false);
    const looks = judgeEvery(LOOK_MS, () => {
      if (!this.#tookOver && !this.#ended && !this.#lost && this.#coordinator.quiet())
        this.#takeOver(started).catch((error: unknown) =>
          this.#lose(`standby: taking over failed: ${error}`),
        );
    });
    const progress = setInterval(
      () => this.#sayProgress(started),
      PROGRESS_MS[this.#options.json ? 'json' : 'text'],
    );
    this.#stopTimers = () => {
      looks.stop();
      clearInterval(progress);
    };
  }

  /** Whether the run's events are kept quiet (they are the coordinator's run's, until a takeover). */
  muted(): boolean {
    return !this.#tookOver;
  }

  /**
   * How following ended, once the run is done: what the stream holds by then is read first (a
   * coordinator says its run ended before it stops the nodes, so the end is known even when this
   * standby's hosts went down with them).
   */
  async outcome(summary: RunSummary): Promise<FollowOutcome> {
    this.#stopTimers();
    this.#coordinator.stop();
    if (!this.#tookOver) {
      let waited: NodeJS.Timeout | undefined;
      const timeout = new Promise((resolve) => {
        waited = setTimeout(resolve, SETTLE_MS);
      });
      await Promise.race([this.#follower.caughtUp(), timeout]).catch(() => {});
      clearTimeout(waited);
    }
    await this.#follower.stop();
    if (this.#tookOver) return { tookOver: true };
    if (this.#ended) return { ended: this.#ended };
    const departed = this.#lost ?? summary.divergence?.reason;
    return departed ? { lost: departed } : { stopped: summary.reason };
  }

  #lose(reason: string): void {
    this.#lost ??= reason;
    this.#runtime?.requestStop(reason, false);
  }

  #said = '';

  /** Says how far it has followed, when that changed. */
  #sayProgress(started: Runtime): void {
    const recorded = this.#source?.lastTick ?? 0;
    const now = `${started.tick}/${recorded}`;
    if (this.#tookOver || now === this.#said || recorded === 0) return;
    this.#said = now;
    this.#options.say(
      { type: 'standby.following', tick: started.tick, recorded },
      `standby: replayed to tick ${started.tick} of ${recorded} recorded`,
    );
  }

  async #takeOver(started: Runtime): Promise<void> {
    const { nc, system, stream, say } = this.#options;
    this.#tookOver = true;
    this.#coordinator.stop();
    const at = await this.#follower.caughtUp();
    // The run ended on its coordinator just before it went quiet: nothing to take over.
    if (this.#ended) {
      this.#tookOver = false;
      return;
    }
    await this.#follower.stop();
    const journal = new StreamJournal(nc, system, stream, {
      lastSequence: at.lastSequence,
      chain: at.chain,
      onFailed: (reason) => started.requestStop(`journal ${this.#label}: ${reason}`, false),
    });
    this.#journal = journal;
    this.#sink.attach(journal);
    this.#options.promote();
    const recorded = this.#source?.lastTick ?? 0;
    say(
      { type: 'coordinator.takeover', journal: this.#label, tick: started.tick, recorded },
      `standby: the coordinator is gone; taking its run over at tick ${started.tick} of ${recorded} recorded`,
    );
    started.recordingWhole();
  }
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
