// The coordinator's side of a remote host: a Launcher whose hosts run on a node of the cluster.
// Frames go out on the host's `in` subject and come back on its `out` subject; the node reports
// the host's exit. A node that stops beating its heart is lost: each of its hosts then exits (as
// a process killed from outside would), so the supervision tree restarts their agents.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ExitInfo, HostProcess, Launcher, SpawnOptions } from '../launch/index.js';
import { type SpawnRequest, subjects } from './subjects.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RemoteLauncher implements Launcher {
  readonly backend = 'node' as const;
  readonly node: string;
  readonly #nc: NatsConnection;
  readonly #subjects: ReturnType<typeof subjects>;
  readonly #hosts = new Set<RemoteHost>();
  #next = 0;

  constructor(nc: NatsConnection, cluster: string, node: string) {
    this.#nc = nc;
    this.#subjects = subjects(cluster);
    this.node = node;
  }

  spawn(options: SpawnOptions): HostProcess {
    const id = `${this.node}-${options.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${++this.#next}`;
    const host = new RemoteHost(this.#nc, this.#subjects, id, () => this.#hosts.delete(host));
    this.#hosts.add(host);
    const request: SpawnRequest = {
      host: id,
      name: options.name,
      ...(options.env ? { env: options.env } : {}),
      ...(options.readPaths ? { readPaths: options.readPaths } : {}),
      ...(options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {}),
      ...(options.gpu ? { gpu: true } : {}),
    };
    this.#nc
      .request(this.#subjects.spawn(this.node), encoder.encode(JSON.stringify(request)), { timeout: 10_000 })
      .then((reply) => {
        const answer = JSON.parse(decoder.decode(reply.data)) as { ok?: boolean; error?: string };
        if (answer.ok) host.started();
        else host.lost(`node "${this.node}" could not start the host: ${answer.error ?? 'no reason'}`);
      })
      .catch((error: Error) => host.lost(`node "${this.node}" did not answer a spawn: ${error.message}`));
    return host;
  }

  /** The node is gone: every host it ran ends now. */
  nodeLost(reason: string): void {
    for (const host of [...this.#hosts]) host.lost(reason);
  }

  close(): void {
    for (const host of [...this.#hosts]) host.kill();
  }
}

class RemoteHost implements HostProcess {
  readonly pid = undefined;
  readonly #nc: NatsConnection;
  readonly #subjects: ReturnType<typeof subjects>;
  readonly #id: string;
  readonly #subscriptions: Subscription[] = [];
  readonly #frameListeners: Array<(frame: unknown) => void> = [];
  readonly #exitListeners: Array<(info: ExitInfo) => void> = [];
  readonly #gone: () => void;
  #exited = false;
  #killed = false;
  /** Frames sent before the node has the host (and listens for them): sent once it does. */
  #waiting: Uint8Array[] | undefined = [];

  constructor(nc: NatsConnection, names: ReturnType<typeof subjects>, id: string, gone: () => void) {
    this.#nc = nc;
    this.#subjects = names;
    this.#id = id;
    this.#gone = gone;
    this.#subscriptions.push(
      nc.subscribe(names.hostOut(id), {
        callback: (_error, message) => {
          if (this.#exited) return;
          for (const listener of this.#frameListeners) listener(message.data);
        },
      }),
      nc.subscribe(names.hostExit(id), {
        callback: (_error, message) => {
          const info = JSON.parse(decoder.decode(message.data)) as ExitInfo;
          this.#exit({ ...info, killed: this.#killed || info.killed });
        },
      }),
    );
  }

  send(frame: Uint8Array): void {
    if (this.#exited) return;
    if (this.#waiting) this.#waiting.push(frame);
    else this.#nc.publish(this.#subjects.hostIn(this.#id), frame);
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
    if (!this.#exited && !this.#waiting)
      this.#nc.publish(this.#subjects.hostKill(this.#id), new Uint8Array(0));
  }

  /** The node is gone or refused the host: it ended, as if killed from outside. */
  lost(reason: string): void {
    this.#exit({ code: null, signal: 'SIGKILL', stderrTail: reason, killed: this.#killed });
  }

  #exit(info: ExitInfo): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#gone();
    for (const listener of this.#exitListeners) listener(info);
  }
}
