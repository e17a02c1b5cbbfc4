// The coordinator's side of a remote host: a Launcher whose hosts run on a node of the cluster.
// Frames go to the node and come back on the coordinator's channel to that node (host-channel.ts,
// one reliable link for all its hosts; a kill goes the same way, and the node's report of the
// host's exit comes back on it), so a nats-server restart loses and doubles nothing. A node that stops beating its heart is lost:
// each of its hosts then exits (as a process killed from outside would), so the supervision tree
// restarts their agents.
import type { NatsConnection } from '@nats-io/transport-node';
import type { ExitInfo, HostProcess, Launcher, SpawnOptions } from '../launch/index.js';
import type { Isolation } from '../supervisor/index.js';
import { type HostChannel, RecordKind } from './host-channel.js';
import { type SpawnRequest, subjects } from './subjects.js';

/** How long one spawn request waits for the node's answer, and how long it is asked in all. */
const SPAWN_ATTEMPT_MS = 2000;
const SPAWN_GIVE_UP_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What nodes may fetch from the coordinator: folders of agent modules, and models. */
export interface Sharing {
  modules(dir: string): void;
  model(path: string): void;
}

/** The coordinator's open channel to a node, and its id. */
export interface OpenChannel {
  id: string;
  channel: HostChannel;
  /** The node process it goes to (its incarnation): spawn requests name it. */
  incarnation: string;
}

export class RemoteLauncher implements Launcher {
  readonly backend = 'node' as const;
  readonly node: string;
  readonly #nc: NatsConnection;
  readonly #subjects: ReturnType<typeof subjects>;
  readonly #hosts = new Set<RemoteHost>();
  #next = 0;

  readonly #share: Sharing;

  readonly #isolation: Isolation;
  readonly #coordinator: string;
  readonly #channel: () => OpenChannel;

  /**
   * Hosts started on `node`, in processes or threads there as `isolation` says; `share` lets
   * nodes fetch from a folder of modules an agent host is given, and the models a GPU host is. `coordinator` is the id this
   * coordinator beats with: host ids start with it, so no two coordinators' hosts share one.
   */
  constructor(
    nc: NatsConnection,
    cluster: string,
    node: string,
    isolation: Isolation,
    share: Sharing,
    coordinator: string,
    channel: () => OpenChannel,
  ) {
    this.#channel = channel;
    this.#nc = nc;
    this.#coordinator = coordinator;
    this.#subjects = subjects(cluster);
    this.node = node;
    this.#isolation = isolation;
    this.#share = share;
  }

  spawn(options: SpawnOptions): HostProcess {
    const id = `${this.#coordinator}-${this.node}-${this.#isolation}-${options.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${++this.#next}`;
    const open = this.#channel();
    const host = new RemoteHost(open.channel, id, () => this.#hosts.delete(host));
    this.#hosts.add(host);
    for (const path of options.readPaths ?? []) (options.gpu ? this.#share.model : this.#share.modules)(path);
    const request: SpawnRequest = {
      host: id,
      incarnation: open.incarnation,
      coordinator: this.#coordinator,
      channel: open.id,
      name: options.name,
      ...(options.readPaths ? { readPaths: options.readPaths } : {}),
      ...(options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {}),
      ...(options.gpu ? { gpu: true } : {}),
      ...(this.#isolation !== 'process' && !options.gpu ? { isolation: this.#isolation } : {}),
    };
    void this.#askSpawn(host, request);
    return host;
  }

  /** The node is gone, or ended the hosts on its own: every host it ran ends now, for `reason`. */
  hostsGone(reason: string): void {
    for (const host of [...this.#hosts]) host.lost(reason);
  }

  /**
   * Asks the node to start the host, again while no answer comes (a request or its answer can be
   * lost while the server restarts; a node answers a repeated request for a host it has as done).
   */
  async #askSpawn(host: RemoteHost, request: SpawnRequest): Promise<void> {
    const deadline = performance.now() + SPAWN_GIVE_UP_MS;
    const data = encoder.encode(JSON.stringify(request));
    let why = '';
    while (!host.exited && performance.now() < deadline) {
      try {
        const reply = await this.#nc.request(this.#subjects.spawn(this.node), data, {
          timeout: SPAWN_ATTEMPT_MS,
        });
        const answer = JSON.parse(decoder.decode(reply.data)) as { ok?: boolean; error?: string };
        if (answer.ok) host.started();
        else host.lost(`node "${this.node}" could not start the host: ${answer.error ?? 'no reason'}`);
        return;
      } catch (error) {
        why = (error as Error).message;
        // No responder yet (the node is resubscribing): wait a little, not the whole attempt.
        if (/no responders/i.test(why)) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    host.lost(`node "${this.node}" did not answer a spawn within ${SPAWN_GIVE_UP_MS} ms: ${why}`);
  }

  close(): void {
    for (const host of [...this.#hosts]) host.kill();
  }
}

class RemoteHost implements HostProcess {
  readonly pid = undefined;
  readonly #channel: HostChannel;
  readonly #id: string;
  readonly #frameListeners: Array<(frame: unknown) => void> = [];
  readonly #exitListeners: Array<(info: ExitInfo) => void> = [];
  readonly #gone: () => void;
  #exited = false;
  #killed = false;
  /** Frames sent before the node has the host (and listens for them): sent once it does. */
  #waiting: Uint8Array[] | undefined = [];

  constructor(channel: HostChannel, id: string, gone: () => void) {
    this.#channel = channel;
    this.#id = id;
    this.#gone = gone;
    channel.attach(id, (kind, payload) => {
      if (this.#exited) return;
      if (kind === RecordKind.Frame) for (const listener of this.#frameListeners) listener(payload);
      else {
        const info = JSON.parse(decoder.decode(payload)) as ExitInfo;
        this.#exit({ ...info, killed: this.#killed || info.killed });
      }
    });
  }

  get exited(): boolean {
    return this.#exited;
  }

  send(frame: Uint8Array): void {
    if (this.#exited) return;
    if (this.#waiting) this.#waiting.push(frame);
    else this.#channel.send(this.#id, RecordKind.Frame, frame);
  }

  /** The node started the host and listens for its frames. */
  started(): void {
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    for (const frame of waiting) this.send(frame);
    if (this.#killed) this.kill();
  }

  onFrame(listener: (frame: unknown) => void): void {
    this.#frameListeners.push(listener);
  }

  // A node checks frame sizes itself (its local launcher) and ends a host that oversteps.
  onOversize(): void {}

  onExit(listener: (info: ExitInfo) => void): void {
    this.#exitListeners.push(listener);
  }

  kill(): void {
    this.#killed = true;
    if (!this.#exited && !this.#waiting) this.#channel.send(this.#id, RecordKind.End, new Uint8Array(0));
  }

  /** The node is gone or refused the host: it ended, as if killed from outside. */
  lost(reason: string): void {
    this.#exit({ code: null, signal: 'SIGKILL', stderrTail: reason, killed: this.#killed });
  }

  #exit(info: ExitInfo): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#channel.detach(this.#id);
    this.#gone();
    for (const listener of this.#exitListeners) listener(info);
  }
}
