// One node of a cluster (`troupe node`): it beats its heart on NATS, starts agent hosts when the
// coordinator asks, relays their frames both ways and reports their exits. It decides nothing: the
// coordinator's supervisor does, exactly as for hosts on its own machine.
import type { NatsConnection } from '@nats-io/transport-node';
import type { HostProcess, Launcher } from '../launch/index.js';
import { HEARTBEAT_MS, type SpawnRequest, subjects } from './subjects.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface NodeServiceOptions {
  cluster: string;
  name: string;
  launcher: Launcher;
  /** This node's agent host entry. */
  hostEntry: string;
  /** This node's GPU host entry (for a GPU host placed on it). */
  gpuEntry: string;
  log?: (line: string) => void;
}

export class NodeService {
  readonly #nc: NatsConnection;
  readonly #options: NodeServiceOptions;
  readonly #subjects: ReturnType<typeof subjects>;
  readonly #hosts = new Map<string, HostProcess>();
  #heartbeat: NodeJS.Timeout | undefined;
  #stopped: (() => void) | undefined;
  /** Resolves when the coordinator asks this node to stop. */
  readonly done: Promise<void>;

  constructor(nc: NatsConnection, options: NodeServiceOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subjects = subjects(options.cluster);
    this.done = new Promise((resolve) => {
      this.#stopped = resolve;
    });
  }

  start(): void {
    const { name } = this.#options;
    this.#nc.subscribe(this.#subjects.spawn(name), {
      callback: (_error, message) => {
        let answer: { ok: boolean; error?: string };
        try {
          this.#spawn(JSON.parse(decoder.decode(message.data)) as SpawnRequest);
          answer = { ok: true };
        } catch (error) {
          answer = { ok: false, error: (error as Error).message };
        }
        message.respond(encoder.encode(JSON.stringify(answer)));
      },
    });
    this.#nc.subscribe(this.#subjects.shutdown(name), { callback: () => this.stop() });
    const beat = () =>
      this.#nc.publish(
        this.#subjects.alive(name),
        encoder.encode(JSON.stringify({ name, pid: process.pid })),
      );
    beat();
    this.#heartbeat = setInterval(beat, HEARTBEAT_MS);
  }

  /** Ends every host and stops beating. */
  stop(): void {
    clearInterval(this.#heartbeat);
    for (const host of this.#hosts.values()) host.kill();
    this.#stopped?.();
  }

  #spawn(request: SpawnRequest): void {
    if (this.#hosts.has(request.host)) throw new Error(`host "${request.host}" already runs here`);
    const host = this.#options.launcher.spawn({
      entry: request.gpu ? this.#options.gpuEntry : this.#options.hostEntry,
      ...(request.gpu ? { gpu: true } : {}),
      name: request.name,
      ...(request.env ? { env: request.env } : {}),
      ...(request.readPaths ? { readPaths: request.readPaths } : {}),
      ...(request.maxFrameBytes ? { maxFrameBytes: request.maxFrameBytes } : {}),
    });
    const id = request.host;
    this.#hosts.set(id, host);
    const frames = this.#nc.subscribe(this.#subjects.hostIn(id), {
      callback: (_error, message) => host.send(message.data),
    });
    const kills = this.#nc.subscribe(this.#subjects.hostKill(id), { callback: () => host.kill() });
    host.onFrame((frame) => this.#nc.publish(this.#subjects.hostOut(id), frame as Uint8Array));
    host.onOversize((bytes, limit) => {
      this.#options.log?.(`host ${id} sent a frame of ${bytes} bytes, above ${limit}: ended`);
      host.kill();
    });
    host.onExit((info) => {
      frames.unsubscribe();
      kills.unsubscribe();
      this.#hosts.delete(id);
      this.#nc.publish(this.#subjects.hostExit(id), encoder.encode(JSON.stringify(info)));
    });
  }
}
