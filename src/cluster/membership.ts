// Which nodes are alive (their heartbeats) and where each agent runs: on its placement's node
// while that node lives, else on the first surviving node by name, else here. The choice is made
// at every (re)start, so a lost node's agents restart elsewhere; it never touches the run's order
// or trace (hosts do not decide anything).
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { nanoid } from 'nanoid';
import type { Isolation } from '../supervisor/index.js';
import { HostChannel } from './host-channel.js';
import { ModelServer } from './model-shipping.js';
import { ModuleServer } from './module-shipping.js';
import { watchConnection } from './nats-connect.js';
import { type OpenChannel, RemoteLauncher } from './remote-launcher.js';
import { judgeEvery, Silence } from './silence.js';
import {
  HEARTBEAT_MS,
  type LostNotice,
  NODE_LOST_MS,
  type NodeBeat,
  readBeat,
  subjects,
} from './subjects.js';

/** Pure: the node an agent placed on `placement` runs on, given the live nodes; undefined: here. */
export function placeAgent(placement: string | undefined, live: ReadonlySet<string>): string | undefined {
  if (placement === undefined) return undefined;
  if (live.has(placement)) return placement;
  return [...live].sort()[0];
}

function coordinatorBeat(id: string, standby: boolean): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ id, pid: process.pid, ...(standby ? { standby } : {}) }));
}

/** Whether a coordinator heartbeat is a running coordinator's (not a standby's, nor malformed). */
export function isCoordinatorBeat(data: Uint8Array): boolean {
  try {
    const beat = JSON.parse(new TextDecoder().decode(data)) as { id?: unknown; standby?: unknown } | null;
    return typeof beat?.id === 'string' && beat.standby !== true;
  } catch {
    return false;
  }
}

export class Membership {
  readonly #nc: NatsConnection;
  readonly #cluster: string;
  /** The nodes heard, and how long each has been silent. */
  readonly #silence = new Silence();
  /** By node and isolation. */
  readonly #launchers = new Map<string, RemoteLauncher>();
  /** The channel to each node its hosts' traffic goes on; a new one after the node was lost. */
  readonly #channels = new Map<string, OpenChannel & { subscriptions: Subscription[] }>();
  readonly #lost = new Set<string>();
  /** The beat of each node's believed incarnation (the first heard while it lives). */
  readonly #beats = new Map<string, NodeBeat>();
  /** By node, the last incarnation not believed that was reported (each is reported once). */
  readonly #doubles = new Map<string, string>();
  /** By node, the last lost incarnation heard beating again and told it was lost (told once). */
  readonly #toldLost = new Map<string, string>();
  readonly #subscription: Subscription;
  /** Serves nodes the modules of the hosts started on them. */
  readonly #modules: ModuleServer;
  /** Serves nodes the models of GPU hosts started on them. */
  readonly #models: ModelServer;
  readonly #checks: { stop(): void };
  /** This coordinator's heartbeat: nodes end the hosts of a coordinator gone silent. */
  readonly #heartbeat: NodeJS.Timeout;
  /** The id this coordinator beats with, and its hosts' ids start with. */
  readonly id = nanoid(8).replace(/[^A-Za-z0-9]/g, 'x');
  readonly #onLost: (node: string, why: string) => void;

  /** What this coordinator's heartbeat says: its id and process, and whether it is a standby. */
  #beat: Uint8Array;
  /** Closed: it counts no node lost and tells none. */
  #closed = false;

  /**
   * `onJoined` hears of a node that joins after it was lost (a new process under its name);
   * `onDuplicate` of a second process beating under a live node's name (not believed).
   * `standby`: this coordinator follows another's run (its beats say so, so a standby waiting for
   * the coordinator to fall silent does not take them for the coordinator's) until `promote`.
   */
  constructor(
    nc: NatsConnection,
    cluster: string,
    onLost: (node: string, why: string) => void,
    onJoined: (node: string) => void = () => {},
    options: {
      standby?: boolean;
      onDuplicate?: (node: string, live: NodeBeat, other: NodeBeat) => void;
    } = {},
  ) {
    this.#nc = nc;
    this.#cluster = cluster;
    this.#onLost = onLost;
    this.#modules = new ModuleServer(nc, cluster);
    this.#models = new ModelServer(nc, cluster);
    const names = subjects(cluster);
    this.#subscription = nc.subscribe(names.aliveAll, {
      callback: (_error, message) => {
        const node = message.subject.split('.').at(-2) as string;
        const beat = readBeat(message.data);
        // Not a heartbeat of this node (nothing else publishes here): ignored, never a crash.
        if (!beat || beat.name !== node) return;
        const believed = this.#beats.get(node);
        const lost = this.#lost.has(node);
        if (believed?.incarnation === beat.incarnation) {
          // The process counted lost still beats (it was paused, or its beats were late): it is
          // not believed again, but told (once) that it was lost, so it ends the hosts it ran for
          // this coordinator and joins again as a new incarnation. A notice sent at the loss may
          // have gone while it could not hear it.
          if (lost) {
            if (this.#toldLost.get(node) !== beat.incarnation) {
              this.#toldLost.set(node, beat.incarnation);
              this.#tellLost(node, { incarnation: beat.incarnation });
            }
            return;
          }
        } else if (believed && !lost) {
          // Another process under a live node's name (started by mistake, or forged): not
          // believed, so the node does not flap. Once the live one falls silent and is counted
          // lost, a new process under the name joins.
          if (this.#doubles.get(node) !== beat.incarnation) {
            this.#doubles.set(node, beat.incarnation);
            options.onDuplicate?.(node, believed, beat);
          }
          return;
        }
        // A new process under the name of a lost node has rejoined, and takes new hosts again.
        const rejoined = this.#lost.delete(node);
        this.#beats.set(node, beat);
        // Its first beat since the connection came back: it listens again, so what it may have
        // missed goes now, not at the next resend.
        if (this.#silence.heard(node)) this.#channels.get(node)?.channel.resume();
        if (rejoined) onJoined(node);
      },
    });
    this.#checks = judgeEvery(NODE_LOST_MS / 5, () => this.#check());
    this.#beat = coordinatorBeat(this.id, options.standby ?? false);
    nc.publish(names.coordinator, this.#beat);
    this.#heartbeat = setInterval(() => nc.publish(names.coordinator, this.#beat), HEARTBEAT_MS);
    // Cut off from NATS, no node is counted lost; back, each gets a full NODE_LOST_MS again.
    watchConnection(nc, {
      disconnected: () => this.#silence.disconnected(),
      reconnected: () => {
        this.#silence.reconnected();
        for (const { channel } of this.#channels.values()) channel.resume();
      },
    });
  }

  /** A standby has taken the run over: its beats are the coordinator's from now on. */
  promote(): void {
    this.#beat = coordinatorBeat(this.id, false);
    this.#nc.publish(subjects(this.#cluster).coordinator, this.#beat);
  }

  /** The nodes heard from lately. */
  get live(): Set<string> {
    return new Set(this.#silence.peers.filter((node) => !this.#lost.has(node)));
  }

  /** The process id of the node's believed incarnation. */
  pidOf(node: string): number | undefined {
    return this.#beats.get(node)?.pid;
  }

  /**
   * Resolves once every named node has been heard from, and at least `atLeast` nodes in all;
   * rejects after `timeoutMs`.
   */
  async waitFor(nodes: readonly string[], timeoutMs: number, atLeast = 0): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!nodes.every((node) => this.live.has(node)) || this.live.size < atLeast) {
      if (performance.now() > deadline) {
        const missing = nodes.filter((node) => !this.live.has(node));
        if (missing.length === 0)
          throw new Error(`${this.live.size} of ${atLeast} nodes joined within ${timeoutMs} ms`);
        throw new Error(
          `node${missing.length > 1 ? 's' : ''} ${missing.join(', ')} did not join within ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The launcher of the node the agent runs on now (hosting it as `isolation` says), or undefined for this machine. */
  launcherFor(placement: string | undefined, isolation: Isolation = 'process'): RemoteLauncher | undefined {
    const node = placeAgent(placement, this.live);
    if (node === undefined) return undefined;
    const key = `${node}/${isolation}`;
    let launcher = this.#launchers.get(key);
    if (!launcher) {
      launcher = new RemoteLauncher(
        this.#nc,
        this.#cluster,
        node,
        isolation,
        { modules: (dir) => this.#modules.allow(dir), model: (path) => this.#models.allow(path) },
        this.id,
        () => this.#channelTo(node),
      );
      this.#launchers.set(key, launcher);
    }
    return launcher;
  }

  close(): void {
    this.#closed = true;
    this.#checks.stop();
    clearInterval(this.#heartbeat);
    this.#subscription.unsubscribe();
    this.#modules.close();
    this.#models.close();
    for (const node of [...this.#channels.keys()]) this.#closeChannel(node);
  }

  /**
   * The node is gone, known without waiting for its heartbeat to stop (its process exited, and
   * this process started it): its hosts end now.
   */
  lose(node: string, why: string): void {
    if (this.#closed || this.#lost.has(node) || !this.#silence.has(node)) return;
    this.#lost.add(node);
    for (const launcher of this.#launchers.values())
      if (launcher.node === node) launcher.hostsGone(`node "${node}" was lost (${why})`);
    // Its agents restart elsewhere: if the node was only slow, its hosts of them must end there,
    // and it joins again as a new incarnation.
    const channel = this.#channels.get(node)?.id;
    this.#closeChannel(node);
    const incarnation = this.#beats.get(node)?.incarnation;
    if (incarnation !== undefined) this.#tellLost(node, { incarnation, ...(channel ? { channel } : {}) });
    this.#onLost(node, why);
  }

  #check(): void {
    for (const node of this.#silence.silent(NODE_LOST_MS))
      if (!this.#lost.has(node)) this.lose(node, `no heartbeat for ${NODE_LOST_MS} ms`);
  }

  /** The open channel to `node`, opened with its first host (again after the node was lost). */
  #channelTo(node: string): OpenChannel {
    let open = this.#channels.get(node);
    if (!open) {
      const names = subjects(this.#cluster);
      const id = nanoid(10).replace(/[^A-Za-z0-9]/g, 'x');
      const down = names.channelDown(node, id);
      const channel = new HostChannel((bytes) => this.#nc.publish(down, bytes));
      const up = this.#nc.subscribe(names.channelUp(node, id), {
        callback: (_error, message) => channel.receive(message.data),
      });
      // The node ended this channel's hosts (it did not hear this coordinator, which was only
      // slow): they count as killed, and new ones go on a new channel.
      const ended = this.#nc.subscribe(names.channelEnded(node, id), {
        callback: (_error, message) => {
          if (this.#channels.get(node)?.id !== id) return;
          const why = new TextDecoder().decode(message.data);
          this.#closeChannel(node);
          for (const launcher of this.#launchers.values())
            if (launcher.node === node) launcher.hostsGone(`node "${node}" ended its hosts: ${why}`);
        },
      });
      const incarnation = this.#beats.get(node)?.incarnation ?? '';
      open = { id, channel, incarnation, subscriptions: [up, ended] };
      this.#channels.set(node, open);
    }
    return open;
  }

  /** Tells `node` it was counted lost: if it still runs, it ends the channel's hosts and rejoins. */
  #tellLost(node: string, notice: LostNotice): void {
    // Its connection closed (this process is ending): the node hears this coordinator no more.
    if (this.#nc.isClosed()) return;
    this.#nc.publish(
      subjects(this.#cluster).channelDrop(node),
      new TextEncoder().encode(JSON.stringify(notice)),
    );
  }

  #closeChannel(node: string): void {
    const open = this.#channels.get(node);
    if (!open) return;
    open.channel.close();
    for (const subscription of open.subscriptions) subscription.unsubscribe();
    this.#channels.delete(node);
  }
}
