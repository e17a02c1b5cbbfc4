// `troupe cluster <system> --nodes N`: a cluster on this machine, for development and tests. It
// starts a nats-server of its own (127.0.0.1, a random token) unless --nats names one, starts N
// `troupe node` processes (named by the system's placements, then node-1, node-2, …), and runs
// the system as `troupe run` does, its agents' hosts on the nodes they are placed on. This
// process is the coordinator: the one supervisor, scheduler and journal, so the run (and its
// trace hash) is the one `troupe run` gives. Every process it started is ended with it.
import {
  awaitTakeover,
  COORDINATOR,
  CredentialsError,
  closeNats,
  clusterKeys,
  connectNats,
  inboxPrefix,
  type LocalNats,
  Membership,
  type NatsConnection,
  subjects,
} from '../cluster/index.js';
import { errorText } from '../protocol/index.js';
import { loadSystem, type RunSummary, type Runtime } from '../supervisor/index.js';
import { type Following, followToTakeover, runEnded, startFollowing } from './cluster-follow.js';
import { type ClusterJournal, journalStream, openFileJournal, openStreamJournal } from './cluster-journal.js';
import { LocalNodes, startClusterNats } from './cluster-nodes.js';
import { type Hosting, runDashboard } from './dashboard-command.js';
import { runSystem } from './run-command.js';
import { type RunFlags, withFlags } from './run-flags.js';
import { printLine } from './run-output.js';
import { CommandError, UsageError } from './usage-error.js';

const JOIN_TIMEOUT_MS = 30_000;

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
  if (flags.dashboard && (flags.journal || flags.resume || flags.standby || flags.control))
    throw new UsageError(
      '--dashboard does not go with --journal, --resume, --standby or --control (the dashboard has its own controls)',
      'cluster',
    );
  // A reload is not an input a journal can replay: the module on disk has changed.
  if (flags.watch && (flags.journal || flags.resume || flags.standby || flags.dashboard))
    throw new UsageError('--watch does not go with --journal, --resume, --standby or --dashboard', 'cluster');
  if (!flags.dashboard && flags.port !== undefined)
    throw new UsageError('--port goes with --dashboard', 'cluster');
  const stream = journalStream(flags.journal);
  if (flags.standby && !stream)
    throw new UsageError(
      '--standby takes the run over from its journal in JetStream: give --journal js:NAME',
      'cluster',
    );
  if (flags.follow && !flags.standby)
    throw new UsageError('--follow is a way to stand by: give it with --standby', 'cluster');
  if (flags.standby && flags.resume)
    throw new UsageError(
      '--standby resumes the run by itself when its coordinator is gone: leave out --resume',
      'cluster',
    );
  if (stream && !flags.nats)
    throw new UsageError(
      `--journal js:${stream} keeps the journal on a NATS server that outlives this process: give it with --nats URL (the server troupe cluster starts itself ends with it)`,
      'cluster',
    );
  const loaded = withFlags(loadSystem(flags.file, { root: flags.root }), flags);
  // A file journal resumed (the coordinator died mid-run): the system as recorded, replayed on the
  // nodes. (A new file is made once the nodes are there: a cluster that fails to start leaves none.)
  let run: ClusterJournal | undefined = !stream && flags.resume ? openFileJournal(flags, loaded) : undefined;
  const spec = run?.spec ?? loaded;
  const placed = [...new Set(spec.agents.flatMap((agent) => (agent.placement ? [agent.placement] : [])))];
  let names = nodeNames(placed, flags.nodes);
  if (flags.gpuNode !== undefined && !names.includes(flags.gpuNode))
    throw new UsageError(`--gpu-node "${flags.gpuNode}" is not one of the nodes (${names.join(', ')})`);
  const say = (line: object, text: string) => printLine(flags.json, line, text);
  let local: LocalNats | undefined;
  let membership: Membership | undefined;
  let nc: Awaited<ReturnType<typeof connectNats>> | undefined;
  let stopping = false;
  const nodes = new LocalNodes(flags.file, { say, stopping: () => stopping });
  /** Whether this process coordinated a run (a standby that found the run ended did not). */
  let coordinated = false;
  // Whatever ends this process (an error, a closed output pipe), what it started ends with it.
  const killAll = () => {
    nodes.kill();
    local?.kill();
  };
  process.once('exit', killAll);
  // A terminal's Ctrl+C reaches the nodes and the nats-server too (one process group): from then
  // on their exits are the stop's, not losses to make good.
  const signalled = () => {
    stopping = true;
  };
  process.on('SIGINT', signalled);
  process.on('SIGTERM', signalled);
  try {
    // On a server of its own, every party gets an nkey of its own, allowed only its own subjects.
    const keys = flags.nats ? undefined : clusterKeys(spec.name, names);
    // A server that dies is started again; one that cannot be ends the run at once, the journal
    // as it stands (for --resume).
    if (keys)
      local = await startClusterNats(keys, {
        say,
        stopping: () => stopping,
        gone: (reason) => {
          process.stderr.write(
            `troupe: ${reason}. The run stopped here; its journal, if it keeps one, resumes with --resume.\n`,
          );
          killAll();
          process.exit(2);
        },
      });
    const url = flags.nats ?? (local as LocalNats).url;
    try {
      nc = await connectNats(url, 'troupe cluster', {
        ...(keys ? { seed: keys.seed(COORDINATOR) } : {}),
        inboxPrefix: inboxPrefix(spec.name, COORDINATOR),
      });
    } catch (error) {
      if (error instanceof CredentialsError) throw new CommandError(error.message);
      throw new CommandError(`cannot reach NATS at ${url}: ${errorText(error)}`);
    }
    let stored: Awaited<ReturnType<typeof awaitTakeover>> | undefined;
    let following: Following | undefined;
    const followOptions = (connection: NatsConnection, name: string) => ({
      nc: connection,
      system: spec.name,
      stream: name,
      flags,
      say,
      promote: () => membership?.promote(),
    });
    if (flags.standby && stream && flags.follow) {
      say(
        { type: 'standby.waiting', journal: `js:${stream}`, follow: true },
        `standby: following the run of "${spec.name}" in js:${stream}`,
      );
      following = await startFollowing(followOptions(nc, stream));
      run = following.run;
    } else if (flags.standby && stream) {
      say(
        { type: 'standby.waiting', journal: `js:${stream}` },
        `standby: waiting while the coordinator of "${spec.name}" beats`,
      );
      stored = await awaitTakeover(nc, spec.name, stream);
      if ('ended' in stored) return runEnded(stored.ended, say);
      say(
        { type: 'coordinator.takeover', journal: `js:${stream}`, records: stored.takeover.records },
        `standby: the coordinator is gone; resuming its run from js:${stream} (${stored.takeover.records} records)`,
      );
    }
    let runtime: Runtime | undefined;
    let journalFailure: string | undefined;
    // The journal in a stream failed (another coordinator took it over): this run cannot go on.
    const journalFailed = (reason: string) => {
      journalFailure = `journal js:${stream}: ${reason}`;
      runtime?.requestStop(journalFailure, false);
    };
    if (stream && !following)
      run = await openStreamJournal(
        nc,
        stream,
        flags,
        spec,
        journalFailed,
        stored && 'takeover' in stored ? stored.takeover : undefined,
      );
    // A standby following the run coordinates only once it takes over.
    coordinated = !following;
    membership = new Membership(
      nc,
      spec.name,
      // While the cluster stops, its nodes going is no news.
      (node, why) => {
        if (!stopping)
          say(
            { type: 'node.lost', node, reason: why },
            `node "${node}" was lost (${why}): its agents restart on the others`,
          );
      },
      (node) => {
        nodes.joined(node);
        if (!stopping) say({ type: 'node.joined', node }, `node "${node}" joined again`);
      },
      {
        standby: following !== undefined,
        onDuplicate: (node, live, other) =>
          say(
            {
              type: 'node.duplicate',
              node,
              live: live.pid,
              other: other.pid,
              incarnation: other.incarnation,
            },
            `node "${node}": a second process (${other.pid}) beats under its name; ignored, the live one is process ${live.pid}`,
          ),
      },
    );
    // On a server of its own it starts the nodes; on one named by --nats they are started there
    // (`troupe node`), and it waits for the ones its agents are placed on and for --nodes in all.
    if (local) nodes.start(names, url, keys, membership);
    await membership.waitFor(local ? names : placed, JOIN_TIMEOUT_MS, flags.nodes);
    if (!local) names = [...membership.live].sort();
    say(
      {
        type: 'cluster.ready',
        nodes: names,
        nats: url,
        pids: nodes.pids,
        ...(local ? { natsPid: local.pid } : {}),
      },
      `cluster: ${names.length} nodes (${names.join(', ')}) on ${url}`,
    );
    run ??= openFileJournal(flags, spec);
    const hosts = membership;
    /** Each agent on the node its placement names (while it lives), the GPU host on --gpu-node. */
    const hosting: Hosting = (running) => {
      const placement = new Map(running.agents.map((agent) => [agent.name, agent.placement]));
      return {
        hostLauncher: (agent, isolation) => hosts.launcherFor(placement.get(agent), isolation),
        ...(flags.gpuNode ? { gpuLauncher: () => hosts.launcherFor(flags.gpuNode) } : {}),
      };
    };
    /** Which nodes are down as the run ends, said just before its summary. */
    const sayNodes = () => {
      const down = nodes.downOf(names, membership);
      say(
        { type: 'cluster.end', nodes: names, down: down.map(({ node }) => node) },
        down.length === 0
          ? `cluster: all ${names.length} nodes up at the end`
          : `cluster: ${down.length} of ${names.length} nodes down at the end: ${down.map(({ node, why }) => (why ? `${node} (${why})` : node)).join(', ')}`,
      );
    };
    const runOnce = (journaled: ClusterJournal) =>
      flags.dashboard
        ? runDashboard(flags, hosting, sayNodes)
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
            { ...flags, ...(following ? { muted: following.muted } : {}), beforeEnd: sayNodes },
            (started) => {
              runtime = started;
              following?.attach(started);
              if (journalFailure) started.requestStop(journalFailure, false);
            },
          );
    let summary: RunSummary;
    if (following) {
      const followed = await followToTakeover(
        following,
        (next) => {
          following = next;
          run = next.run;
          return runOnce(next.run);
        },
        () => startFollowing(followOptions(nc as NatsConnection, stream as string)),
        say,
      );
      if ('code' in followed) return followed.code;
      summary = followed.summary;
      coordinated = true;
    } else summary = await runOnce(run);
    await run.finish(summary);
    return summary.ok ? 0 : 2;
  } finally {
    stopping = true;
    // Asked on NATS first; a node that does not end in time is terminated, then killed.
    if (coordinated) for (const name of names) nc?.publish(subjects(spec.name).shutdown(name));
    await nodes.stop();
    membership?.close();
    if (nc) await closeNats(nc);
    await local?.stop();
    process.off('exit', killAll);
    process.off('SIGINT', signalled);
    process.off('SIGTERM', signalled);
  }
}
