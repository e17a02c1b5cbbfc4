// The coordinator's side of a cluster, apart from the run it coordinates: its NATS connection (on
// a nats-server of its own, supervised, with an nkey per party, unless it is given a server), the
// membership of the nodes (heartbeats, losses, rejoins, duplicates), the `troupe node` processes
// it starts on its own machine (started again when they die), which node hosts each agent, and
// ending all of it. `troupe cluster` (cli/cluster-command.ts) checks its flags, picks the journal,
// runs the system on `hosting` and prints what `say` reports.
import { errorText } from '../protocol/index.js';
import type { Isolation, RuntimeOptions, SystemSpec } from '../supervisor/index.js';
import { clusterKeys } from './cluster-keys.js';
import { LocalNodes, type Say, startClusterNats } from './local-nodes.js';
import { Membership } from './membership.js';
import { CredentialsError, closeNats, connectNats, type NatsConnection } from './nats-connect.js';
import type { LocalNats } from './nats-server.js';
import { COORDINATOR, inboxPrefix } from './permissions.js';
import { subjects } from './subjects.js';

/** How long the nodes have to join before the cluster gives up. */
const JOIN_TIMEOUT_MS = 30_000;

/** A coordinator that cannot start (NATS out of reach, credentials refused): the message says why. */
export class CoordinatorError extends Error {}

export interface CoordinatorOptions {
  /** The system's file (the nodes started here load it) and name (the cluster's subjects). */
  file: string;
  system: string;
  /** The node names: the system's placements, then node-1, node-2, … (see nodeNames). */
  names: readonly string[];
  /** The placements the system's agents name: on a given server, these must join. */
  placed: readonly string[];
  /** How many nodes must join in all. */
  count: number;
  /** A nats-server of the user's (then the nodes are started there); none: one of its own. */
  nats?: string;
  say: Say;
  /** The cluster's own nats-server died and could not be started again: the run must end now. */
  natsGone: (reason: string) => void;
}

/** Where each agent's host runs: its placement's node (while it lives), the GPU host on `gpuNode`. */
export type ClusterHosting = (spec: SystemSpec) => Pick<RuntimeOptions, 'hostLauncher' | 'gpuLauncher'>;

export class Coordinator {
  readonly #options: CoordinatorOptions;
  readonly #nodes: LocalNodes;
  /** On a server of its own, every party gets an nkey of its own, allowed only its own subjects. */
  readonly #keys: ReturnType<typeof clusterKeys> | undefined;
  #local: LocalNats | undefined;
  #nc: NatsConnection | undefined;
  #membership: Membership | undefined;
  #names: string[];
  #stopping = false;
  /** Whether it coordinated a run (a standby that found the run ended did not). */
  #coordinated = false;

  /** Connects to NATS: a server of its own (started and supervised here) unless `options.nats`. */
  static async connect(options: CoordinatorOptions): Promise<Coordinator> {
    const coordinator = new Coordinator(options);
    try {
      await coordinator.#connect();
    } catch (error) {
      await coordinator.close();
      throw error;
    }
    return coordinator;
  }

  private constructor(options: CoordinatorOptions) {
    this.#options = options;
    this.#names = [...options.names];
    this.#keys = options.nats ? undefined : clusterKeys(options.system, options.names);
    this.#nodes = new LocalNodes(options.file, { say: options.say, stopping: () => this.#stopping });
  }

  async #connect(): Promise<void> {
    const keys = this.#keys;
    const { say, natsGone } = this.#options;
    if (keys)
      this.#local = await startClusterNats(keys, { say, stopping: () => this.#stopping, gone: natsGone });
    const url = this.url;
    try {
      this.#nc = await connectNats(url, 'troupe cluster', {
        ...(keys ? { seed: keys.seed(COORDINATOR) } : {}),
        inboxPrefix: inboxPrefix(this.#options.system, COORDINATOR),
      });
    } catch (error) {
      if (error instanceof CredentialsError) throw new CoordinatorError(error.message);
      throw new CoordinatorError(`cannot reach NATS at ${url}: ${errorText(error)}`);
    }
  }

  get nc(): NatsConnection {
    if (!this.#nc) throw new Error('the coordinator is not connected');
    return this.#nc;
  }

  /** The NATS server's address. */
  get url(): string {
    return this.#options.nats ?? (this.#local as LocalNats).url;
  }

  /** From now on nodes going is the cluster stopping, not losses to make good. */
  stopping(): void {
    this.#stopping = true;
  }

  /**
   * Hears the nodes (as a standby, beating as one), starts the nodes on a server of its own, and
   * waits until they have joined; then reports `cluster.ready`.
   */
  async join(options: { standby: boolean }): Promise<void> {
    const { say } = this.#options;
    this.#coordinated = !options.standby;
    const membership = new Membership(
      this.nc,
      this.#options.system,
      (node, why) => {
        if (!this.#stopping)
          say(
            { type: 'node.lost', node, reason: why },
            `node "${node}" was lost (${why}): its agents restart on the others`,
          );
      },
      (node) => {
        this.#nodes.joined(node);
        if (!this.#stopping) say({ type: 'node.joined', node }, `node "${node}" joined again`);
      },
      {
        standby: options.standby,
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
    this.#membership = membership;
    const local = this.#local;
    if (local) this.#nodes.start(this.#names, this.url, this.#keys, membership);
    await membership.waitFor(
      local ? this.#names : this.#options.placed,
      JOIN_TIMEOUT_MS,
      this.#options.count,
    );
    if (!local) this.#names = [...membership.live].sort();
    say(
      {
        type: 'cluster.ready',
        nodes: this.#names,
        nats: this.url,
        pids: this.#nodes.pids,
        ...(local ? { natsPid: local.pid } : {}),
      },
      `cluster: ${this.#names.length} nodes (${this.#names.join(', ')}) on ${this.url}`,
    );
  }

  /** A standby that took the run over: its heartbeat is the coordinator's, and it ends the nodes. */
  promote(): void {
    this.#coordinated = true;
    this.#membership?.promote();
  }

  /** Each agent on the node its placement names (while it lives), the GPU host on `gpuNode`. */
  hosting(gpuNode?: string): ClusterHosting {
    const membership = this.#membership;
    if (!membership) throw new Error('the cluster has not joined yet');
    return (running) => {
      const placement = new Map(running.agents.map((agent) => [agent.name, agent.placement]));
      return {
        hostLauncher: (agent: string, isolation: Isolation) =>
          membership.launcherFor(placement.get(agent), isolation),
        ...(gpuNode ? { gpuLauncher: () => membership.launcherFor(gpuNode) } : {}),
      };
    };
  }

  /** Reports which nodes are down as the run ends (`cluster.end`, just before its summary). */
  sayEnd(): void {
    const names = this.#names;
    const down = this.#nodes.downOf(names, this.#membership);
    this.#options.say(
      { type: 'cluster.end', nodes: names, down: down.map(({ node }) => node) },
      down.length === 0
        ? `cluster: all ${names.length} nodes up at the end`
        : `cluster: ${down.length} of ${names.length} nodes down at the end: ${down.map(({ node, why }) => (why ? `${node} (${why})` : node)).join(', ')}`,
    );
  }

  /** Kills what it started at once (from an exit handler, where nothing can be awaited). */
  kill(): void {
    this.#nodes.kill();
    this.#local?.kill();
  }

  /**
   * Ends the cluster: the nodes of a run it coordinated are asked on NATS to stop (then
   * terminated, then killed), the membership and connection closed, its nats-server stopped.
   */
  async close(): Promise<void> {
    this.stopping();
    if (this.#coordinated)
      for (const name of this.#names) this.#nc?.publish(subjects(this.#options.system).shutdown(name));
    await this.#nodes.stop();
    this.#membership?.close();
    if (this.#nc) await closeNats(this.#nc);
    await this.#local?.stop();
  }
}
