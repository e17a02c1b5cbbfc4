// One node of a cluster (`troupe node`): it beats its heart on NATS, starts agent hosts when the
// coordinator asks, relays their frames both ways and reports their exits, over one reliable link
// per host (so a nats-server restart loses and doubles nothing). It decides nothing: the
// coordinator's supervisor does, exactly as for hosts on its own machine.
import type { NatsConnection } from '@nats-io/transport-node';
import type { HostProcess, Launcher } from '../launch/index.js';
import { peekFrame } from '../protocol/index.js';
import type { Isolation } from '../supervisor/index.js';
import { type ModelFetcher, startsWithGpuLoad } from './model-shipping.js';
import type { ModuleFetcher } from './module-shipping.js';
import { LinkKind, ReliableLink } from './reliable-link.js';
import { HEARTBEAT_MS, NODE_LOST_MS, type SpawnRequest, subjects } from './subjects.js';

/** How long an exited host's link waits for the coordinator to acknowledge the exit. */
const EXIT_LINGER_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface NodeServiceOptions {
  cluster: string;
  name: string;
  /** The launcher for each way of hosting an agent here (a GPU host is a process). */
  launcher: (isolation: Isolation) => Launcher;
  /** This node's agent host entry. */
  hostEntry: string;
  /** This node's GPU host entry (for a GPU host placed on it). */
  gpuEntry: string;
  /** Where agent modules come from: this node's cache, filled from the coordinator's. */
  modules: ModuleFetcher;
  /** Where models come from: this node's model cache, filled from the coordinator's files. */
  models: ModelFetcher;
  log?: (line: string) => void;
  /** Hears of each host started here. */
  onHost?: (host: { host: string; agent: string; isolation: string }) => void;
}

export class NodeService {
  readonly #nc: NatsConnection;
  readonly #options: NodeServiceOptions;
  readonly #subjects: ReturnType<typeof subjects>;
  readonly #hosts = new Map<string, HostProcess>();
  /** Each host's link, kept after its exit until the coordinator has the exit. */
  readonly #links = new Map<string, ReliableLink>();
  /** Every host id started here: a repeated spawn request (its answer was lost) is answered as done. */
  readonly #started = new Set<string>();
  /** The coordinator that asked for each live host. */
  readonly #coordinatorOf = new Map<string, string>();
  /** When each coordinator was last heard (or last asked for a host). */
  readonly #coordinatorSeen = new Map<string, number>();
  /** While this node is cut off from NATS, a coordinator's silence proves nothing. */
  #disconnected = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #coordinatorCheck: NodeJS.Timeout | undefined;
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
    this.#nc.subscribe(this.#subjects.coordinator, {
      callback: (_error, message) => {
        try {
          const { id } = JSON.parse(decoder.decode(message.data)) as { id?: unknown };
          if (typeof id === 'string') this.#coordinatorSeen.set(id, performance.now());
        } catch {
          // Not a heartbeat: nothing else publishes here, and nothing is decided by it.
        }
      },
    });
    this.#coordinatorCheck = setInterval(() => this.#endOrphans(), NODE_LOST_MS / 5);
  }

  /** The connection to NATS went: coordinators' silence proves nothing until it is back. */
  disconnected(): void {
    this.#disconnected = true;
  }

  /** The connection to NATS is back: each link sends again what may have been lost. */
  reconnected(): void {
    this.#disconnected = false;
    // Every coordinator gets a full NODE_LOST_MS from now to be heard again.
    const now = performance.now();
    for (const id of this.#coordinatorSeen.keys()) this.#coordinatorSeen.set(id, now);
    for (const link of this.#links.values()) link.resume();
  }

  /** Ends every host and stops beating; nothing of it keeps the process up after. */
  stop(): void {
    clearInterval(this.#heartbeat);
    clearInterval(this.#coordinatorCheck);
    for (const host of this.#hosts.values()) host.kill();
    for (const link of this.#links.values()) link.close();
    this.#stopped?.();
  }

  #spawn(request: SpawnRequest): void {
    const id = request.host;
    if (this.#started.has(id)) return;
    const { modules, models } = this.#options;
    const host = this.#options.launcher(request.isolation ?? 'process').spawn({
      entry: request.gpu ? this.#options.gpuEntry : this.#options.hostEntry,
      ...(request.gpu ? { gpu: true } : {}),
      name: request.name,
      ...(request.env ? { env: request.env } : {}),
      // A host reads its modules or models from this node's caches (the coordinator's paths are its own).
      readPaths: [request.gpu ? models.directory : modules.directory],
      ...(request.maxFrameBytes ? { maxFrameBytes: request.maxFrameBytes } : {}),
    });
    this.#started.add(id);
    this.#hosts.set(id, host);
    this.#coordinatorOf.set(id, request.coordinator);
    if (!this.#coordinatorSeen.has(request.coordinator))
      this.#coordinatorSeen.set(request.coordinator, performance.now());
    this.#options.onHost?.({
      host: id,
      agent: request.name,
      isolation: request.gpu ? 'gpu' : (request.isolation ?? 'process'),
    });
    let failure: string | undefined;
    /** Frames behind a Load whose module is being fetched: they go, in order, once it has gone. */
    let queue: Uint8Array[] | undefined;
    const forward = (frame: Uint8Array): void => {
      if (queue) {
        queue.push(frame);
        return;
      }
      // Only a Load changes: of models for a GPU host, of a module for an agent host.
      const load = request.gpu ? startsWithGpuLoad(frame) : peekFrame(frame)?.command === 'load';
      if (!load) {
        host.send(frame);
        return;
      }
      const waiting: Uint8Array[] = [];
      queue = waiting;
      (request.gpu ? models : modules).localizeLoad(frame).then(
        (localized) => {
          queue = undefined;
          host.send(localized ?? frame);
          for (const next of waiting) forward(next);
        },
        (error: Error) => {
          const what = request.gpu ? 'a model' : 'the module';
          failure = `node "${this.#options.name}" could not get ${what}: ${error.message}`;
          this.#options.log?.(`host ${id}: ${failure}`);
          host.kill();
        },
      );
    };
    const out = this.#subjects.hostOut(id);
    const link = new ReliableLink({
      publish: (bytes) => this.#nc.publish(out, bytes),
      deliver: (kind, payload) => (kind === LinkKind.Frame ? forward(payload) : host.kill()),
    });
    this.#links.set(id, link);
    const frames = this.#nc.subscribe(this.#subjects.hostIn(id), {
      callback: (_error, message) => link.receive(message.data),
    });
    host.onFrame((frame) => link.send(LinkKind.Frame, frame as Uint8Array));
    host.onOversize((bytes, limit) => {
      this.#options.log?.(`host ${id} sent a frame of ${bytes} bytes, above ${limit}: ended`);
      host.kill();
    });
    host.onExit((info) => {
      this.#hosts.delete(id);
      this.#coordinatorOf.delete(id);
      const exit = failure ? { ...info, stderrTail: failure } : info;
      link.send(LinkKind.End, encoder.encode(JSON.stringify(exit)));
      // The link stays until the coordinator has the exit (or gives up on it: lost, or gone).
      const linger = setTimeout(() => link.close(), EXIT_LINGER_MS);
      void link.settled().then(() => {
        clearTimeout(linger);
        link.close();
        frames.unsubscribe();
        this.#links.delete(id);
      });
    });
  }

  /**
   * Ends the hosts of a coordinator not heard for NODE_LOST_MS: it died (or was cut off for good),
   * and whoever takes over its run starts hosts of its own (their ids never meet these).
   */
  #endOrphans(): void {
    if (this.#disconnected) return;
    const now = performance.now();
    const gone = new Set<string>();
    for (const [id, seen] of this.#coordinatorSeen) if (now - seen >= NODE_LOST_MS) gone.add(id);
    if (gone.size === 0) return;
    for (const [host, coordinator] of this.#coordinatorOf) {
      if (!gone.has(coordinator)) continue;
      this.#options.log?.(`host ${host}: its coordinator was not heard for ${NODE_LOST_MS} ms; ended`);
      this.#coordinatorOf.delete(host);
      this.#hosts.get(host)?.kill();
    }
    for (const id of gone) this.#coordinatorSeen.delete(id);
  }
}
