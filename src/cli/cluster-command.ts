// `troupe cluster <system> --nodes N`: a cluster on this machine, for development and tests. It
// starts a nats-server of its own (127.0.0.1, an nkey per party) unless --nats names one, starts N
// `troupe node` processes (named by the system's placements, then node-1, node-2, …), and runs
// the system as `troupe run` does, its agents' hosts on the nodes they are placed on. This
// process is the coordinator (cluster/coordinator.ts): the one supervisor, scheduler and journal,
// so the run (and its trace hash) is the one `troupe run` gives. Here: the flags, the journal (a
// file, a stream, or a standby's), the run, and what is printed. Every process it started is
// ended with it.
import {
  awaitTakeover,
  Coordinator,
  CoordinatorError,
  type Following,
  type FollowOptions,
  followToTakeover,
  type RunJournal,
  runEnded,
  type Say,
  type StoredJournal,
  startFollowing,
} from '../cluster/index.js';
import { loadSystem, type RunSummary, type Runtime, type SystemSpec } from '../supervisor/index.js';
import { journalStream, openFileJournal, openStreamJournal } from './cluster-journal.js';
import { runDashboard } from './dashboard-command.js';
import { runSystem } from './run-command.js';
import { type RunFlags, withFlags } from './run-flags.js';
import { printLine } from './run-output.js';
import { CommandError, UsageError } from './usage-error.js';

export interface ClusterFlags
  extends Pick<
    RunFlags,
    | 'file'
    | 'seed'
    | 'isolation'
    | 'maxTicks'
    | 'untilIdle'
    | 'json'
    | 'root'
    | 'journal'
    | 'journalSync'
    | 'resume'
    | 'force'
  > {
  nodes: number;
  nats?: string;
  /** The node whose machine runs the GPU host (default: the coordinator's). */
  gpuNode?: string;
  /** Wait while the system's coordinator beats; when it falls silent, resume its run (js: journal). */
  standby?: boolean;
  /** With `standby`: replay the run as it is recorded, so a takeover replays only its last ticks. */
  follow?: boolean;
  /** Serve the supervisor window on 127.0.0.1 (port 0 or undefined: any free one). */
  dashboard?: boolean;
  port?: number;
  /** Read control commands (JSON lines) from stdin, as `troupe run --control`. */
  control?: boolean;
  /** Restart an agent when its module's source changes, as `troupe run --watch`. */
  watch?: boolean;
}

/** The node names: the system's placements, then node-1, node-2, … up to `count`. */
export function nodeNames(placements: readonly string[], count: number): string[] {
  const names = [...new Set(placements)].sort();
  if (names.length > count)
    throw new UsageError(
      `the system places agents on ${names.length} nodes (${names.join(', ')}); --nodes ${count} is fewer`,
    );
  for (let i = 1; names.length < count; i++) if (!names.includes(`node-${i}`)) names.push(`node-${i}`);
  return names;
}

export async function clusterCommand(flags: ClusterFlags): Promise<number> {
  checkClusterFlags(flags);
  const stream = journalStream(flags.journal);
  const loaded = withFlags(loadSystem(flags.file, { root: flags.root }), flags);
  // A file journal resumed (the coordinator died mid-run): the system as recorded, replayed on the
  // nodes. (A new file is made once the nodes are there: a cluster that fails to start leaves none.)
  const resumed = !stream && flags.resume ? openFileJournal(flags, loaded) : undefined;
  const spec = resumed?.spec ?? loaded;
  const placed = [...new Set(spec.agents.flatMap((agent) => (agent.placement ? [agent.placement] : [])))];
  const names = nodeNames(placed, flags.nodes);
  if (flags.gpuNode !== undefined && !names.includes(flags.gpuNode))
    throw new UsageError(`--gpu-node "${flags.gpuNode}" is not one of the nodes (${names.join(', ')})`);
  const say: Say = (line, text) => printLine(flags.json, line, text);
  const coordinator = await startCoordinator(flags, spec, { names, placed, say });
  // Whatever ends this process (an error, a closed output pipe), what it started ends with it.
  const killAll = () => coordinator.kill();
  process.once('exit', killAll);
  // A terminal's Ctrl+C reaches the nodes and the nats-server too (one process group): from then
  // on their exits are the stop's, not losses to make good.
  const signalled = () => coordinator.stopping();
  process.on('SIGINT', signalled);
  process.on('SIGTERM', signalled);
  try {
    return await coordinate(flags, { coordinator, spec, stream, resumed, say });
  } finally {
    await coordinator.close();
    process.off('exit', killAll);
    process.off('SIGINT', signalled);
    process.off('SIGTERM', signalled);
  }
}

/** The flags that do not go together, refused before anything starts. */
function checkClusterFlags(flags: ClusterFlags): void {
  const refuse = (message: string) => {
    throw new UsageError(message, 'cluster');
  };
  if (flags.dashboard && (flags.journal || flags.resume || flags.standby || flags.control))
    refuse(
      '--dashboard does not go with --journal, --resume, --standby or --control (the dashboard has its own controls)',
    );
  // A reload is not an input a journal can replay: the module on disk has changed.
  if (flags.watch && (flags.journal || flags.resume || flags.standby || flags.dashboard))
    refuse('--watch does not go with --journal, --resume, --standby or --dashboard');
  if (!flags.dashboard && flags.port !== undefined) refuse('--port goes with --dashboard');
  const stream = journalStream(flags.journal);
  if (flags.standby && !stream)
    refuse('--standby takes the run over from its journal in JetStream: give --journal js:NAME');
  if (flags.follow && !flags.standby) refuse('--follow is a way to stand by: give it with --standby');
  if (flags.standby && flags.resume)
    refuse('--standby resumes the run by itself when its coordinator is gone: leave out --resume');
  if (stream && !flags.nats)
    refuse(
      `--journal js:${stream} keeps the journal on a NATS server that outlives this process: give it with --nats URL (the server troupe cluster starts itself ends with it)`,
    );
}

/** Connects the coordinator: a failure to is the command's, said without a stack. */
async function startCoordinator(
  flags: ClusterFlags,
  spec: SystemSpec,
  nodes: { names: string[]; placed: string[]; say: Say },
): Promise<Coordinator> {
  let coordinator: Coordinator | undefined;
  try {
    coordinator = await Coordinator.connect({
      file: flags.file,
      system: spec.name,
      names: nodes.names,
      placed: nodes.placed,
      count: flags.nodes,
      ...(flags.nats ? { nats: flags.nats } : {}),
      say: nodes.say,
      // A server that dies is started again; one that cannot be ends the run at once, the journal
      // as it stands (for --resume).
      natsGone: (reason) => {
        process.stderr.write(
          `troupe: ${reason}. The run stopped here; its journal, if it keeps one, resumes with --resume.\n`,
        );
        coordinator?.kill();
        process.exit(2);
      },
    });
  } catch (error) {
    if (error instanceof CoordinatorError) throw new CommandError(error.message);
    throw error;
  }
  return coordinator;
}

interface Coordinating {
  coordinator: Coordinator;
  spec: SystemSpec;
  /** The JetStream stream of `--journal js:NAME`. */
  stream: string | undefined;
  /** The file journal `--resume` opened. */
  resumed: RunJournal | undefined;
  say: Say;
}

/** Stands by if asked, opens the journal, waits for the nodes, and runs the system on them. */
async function coordinate(flags: ClusterFlags, context: Coordinating): Promise<number> {
  const { coordinator, spec, stream, say } = context;
  let run = context.resumed;
  let following: Following | undefined;
  let takeover: StoredJournal | undefined;
  if (flags.standby && stream) {
    const standing = await standBy(flags, context, stream);
    if ('code' in standing) return standing.code;
    ({ following, takeover } = standing);
    run = following?.run;
  }
  let runtime: Runtime | undefined;
  let journalFailure: string | undefined;
  if (stream && !following)
    // The journal in a stream failed (another coordinator took it over): this run cannot go on.
    run = await openStreamJournal(
      coordinator.nc,
      stream,
      flags,
      spec,
      (reason) => {
        journalFailure = `journal js:${stream}: ${reason}`;
        runtime?.requestStop(journalFailure, false);
      },
      takeover,
    );
  // A standby following the run coordinates only once it takes over.
  await coordinator.join({ standby: following !== undefined });
  run ??= openFileJournal(flags, spec);
  const hosting = coordinator.hosting(flags.gpuNode);
  const sayEnd = () => coordinator.sayEnd();
  const runOnce = (journaled: RunJournal, current = following): Promise<RunSummary> =>
    flags.dashboard
      ? runDashboard(flags, hosting, sayEnd)
      : runSystem(
          journaled.spec,
          {
            journal: journaled.journal,
            replay: journaled.replay,
            checkpointEvery: journaled.checkpointEvery,
            maxTicks: flags.maxTicks,
            untilIdle: flags.untilIdle,
            ...hosting(journaled.spec),
          },
          { ...flags, ...(current ? { muted: () => current.muted() } : {}), beforeEnd: sayEnd },
          (started) => {
            runtime = started;
            following?.attach(started);
            if (journalFailure) started.requestStop(journalFailure, false);
          },
        );
  if (!following) return finish(run, await runOnce(run));
  const followed = await followToTakeover(
    following,
    (next) => {
      following = next;
      run = next.run;
      return runOnce(next.run);
    },
    () => follow(flags, context, stream as string),
    say,
  );
  if ('code' in followed) return followed.code;
  return finish(run, followed.summary);
}

async function finish(run: RunJournal, summary: RunSummary): Promise<number> {
  await run.finish(summary);
  return summary.ok ? 0 : 2;
}

/**
 * `--standby`: follows the run as it is recorded (`--follow`), or waits while its coordinator
 * beats and then resumes it from the stream; or finds it ended (the exit code).
 */
async function standBy(
  flags: ClusterFlags,
  context: Coordinating,
  stream: string,
): Promise<
  | { code: number }
  | { following: Following; takeover?: undefined }
  | { following?: undefined; takeover: StoredJournal }
> {
  const { coordinator, spec, say } = context;
  if (flags.follow) {
    say(
      { type: 'standby.waiting', journal: `js:${stream}`, follow: true },
      `standby: following the run of "${spec.name}" in js:${stream}`,
    );
    return { following: await follow(flags, context, stream) };
  }
  say(
    { type: 'standby.waiting', journal: `js:${stream}` },
    `standby: waiting while the coordinator of "${spec.name}" beats`,
  );
  const stored = await awaitTakeover(coordinator.nc, spec.name, stream);
  if ('ended' in stored) return { code: runEnded(stored.ended, say) };
  say(
    { type: 'coordinator.takeover', journal: `js:${stream}`, records: stored.takeover.records },
    `standby: the coordinator is gone; resuming its run from js:${stream} (${stored.takeover.records} records)`,
  );
  return { takeover: stored.takeover };
}

function followOptions(flags: ClusterFlags, context: Coordinating, stream: string): FollowOptions {
  const { coordinator } = context;
  return {
    nc: coordinator.nc,
    system: context.spec.name,
    stream,
    file: flags.file,
    ...(flags.root === undefined ? {} : { root: flags.root }),
    force: flags.force ?? false,
    ...(flags.isolation === undefined ? {} : { isolation: flags.isolation }),
    json: flags.json,
    say: context.say,
    promote: () => coordinator.promote(),
  };
}

/** Starts following the run (a stream that failed before its header is the command's error). */
async function follow(flags: ClusterFlags, context: Coordinating, stream: string): Promise<Following> {
  try {
    return await startFollowing(followOptions(flags, context, stream));
  } catch (error) {
    if (error instanceof CoordinatorError) throw new CommandError(error.message);
    throw error;
  }
}
