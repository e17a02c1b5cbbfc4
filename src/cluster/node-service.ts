// One node of a cluster (`troupe node`): it beats its heart on NATS, starts agent hosts when the
// coordinator asks, relays their frames both ways and reports their exits, all over one channel
// per coordinator (host-channel.ts: a reliable link, so a nats-server restart loses and doubles
// nothing, carrying a turn's frames for all hosts as one message). It decides nothing: the
// coordinator's supervisor does, exactly as for hosts on its own machine.
import type { NatsConnection } from '@nats-io/transport-node';
import { nanoid } from 'nanoid';
import type { HostProcess, Launcher } from '../launch/index.js';
import { peekFrame } from '../protocol/index.js';
import type { Isolation } from '../supervisor/index.js';
import { HostChannel, RecordKind } from './host-channel.js';
import { type ModelFetcher, startsWithGpuLoad } from './model-shipping.js';
import type { ModuleFetcher } from './module-shipping.js';
import { judgeEvery, Silence } from './silence.js';
import {
  elder,
  HEARTBEAT_MS,
  NODE_LOST_MS,
  type NodeBeat,
  readBeat,
  readLostNotice,
  type SpawnRequest,
  subjects,
} from './subjects.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Channels ended on their coordinator's silence that this node remembers (the newest). */
const ENDED_KEPT = 64;
/** This process's own incarnations it remembers (the newest): its late beats are its own. */
const INCARNATIONS_KEPT = 16;
/**
 * How long a node listens for another process under its name before it beats: two of a live
 * node's beats, and a margin. A name already live is refused to the newcomer.
 */
export const DUPLICATE_LISTEN_MS = 2 * HEARTBEAT_MS + 100;

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
  /** The channel to each coordinator, by the channel's id (one at a time per coordinator). */
  readonly #channels = new Map<string, { channel: HostChannel; coordinator: string }>();
  /**
   * Channels this node ended on its own (their coordinator was not heard), and why: a coordinator
   * that was only slow hears so again whenever it sends on one, and may not start hosts on it.
   */
  readonly #ended = new Map<string, string>();
  /** Every host id started here: a repeated spawn request (its answer was lost) is answered as done. */
  readonly #started = new Set<string>();
  /** The coordinators heard, and how long each has been silent (while this node is connected). */
  readonly #coordinators = new Silence();
  #heartbeat: NodeJS.Timeout | undefined;
  /** Stopped: it never starts (again). */
  #over = false;
  #coordinatorCheck: { stop(): void } | undefined;
  #stopped: (() => void) | undefined;
  /**
   * This process's beat: its name, pid and incarnation. A new incarnation each time a coordinator
   * counted it lost (it was paused, or its beats were late), so it joins again.
   */
  beat: NodeBeat;
  /** The incarnations this process has beaten with lately: its own late beats are never another's. */
  readonly #incarnations = new Set<string>();
  /** Why this node gave way to another process under its name (then it stopped), if it did. */
  refused: string | undefined;
  /** Resolves when the coordinator asks this node to stop (or it gave way). */
  readonly done: Promise<void>;

  constructor(nc: NatsConnection, options: NodeServiceOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subjects = subjects(options.cluster);
    this.beat = { name: options.name, pid: process.pid, incarnation: nanoid(12), since: Date.now() };
    this.#incarnations.add(this.beat.incarnation);
    this.done = new Promise((resolve) => {
      this.#stopped = resolve;
    });
  }

  /**
   * Listens for another process under this node's name (DUPLICATE_LISTEN_MS), then starts. False,
   * with `refused` saying why, when the name is taken: this process must not serve.
   */
  async join(): Promise<boolean> {
    this.#nc.subscribe(this.#subjects.alive(this.#options.name), {
      callback: (_error, message) => {
        const other = readBeat(message.data);
        if (!other || this.#incarnations.has(other.incarnation) || !elder(other, this.beat)) return;
        if (this.refused !== undefined) return;
        // Another process had the name first (two started at once end here too: the younger goes).
        this.refused = `a node named "${other.name}" is already live (process ${other.pid}, incarnation ${other.incarnation}, up since ${new Date(other.since).toISOString()}); this one (process ${this.beat.pid}) exits`;
        this.stop();
      },
    });
    await this.#nc.flush();
    await new Promise((resolve) => setTimeout(resolve, DUPLICATE_LISTEN_MS));
    if (this.refused !== undefined) return false;
    // Stopped while it listened (interrupted): it never serves.
    if (!this.#over) this.#start();
    return true;
  }

  #start(): void {
    const { name } = this.#options;
    this.#nc.subscribe(this.#subjects.spawn(name), {
      callback: (_error, message) => {
        let answer: { ok: boolean; error?: string };
        // For another process under this name (the one the coordinator believes): not answered,
        // so its answer is the one the coordinator gets.
        if (this.#forAnother(message.data)) return;
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
    this.#beatNow();
    this.#heartbeat = setInterval(() => this.#beatNow(), HEARTBEAT_MS);
    this.#nc.subscribe(this.#subjects.coordinator, {
      callback: (_error, message) => {
        try {
          const { id } = JSON.parse(decoder.decode(message.data)) as { id?: unknown };
          if (typeof id !== 'string') return;
          // Its first beat since the connection came back: it listens again, so what it may have
          // missed goes now, not at the next resend.
          if (this.#coordinators.heard(id))
            for (const open of this.#channels.values()) if (open.coordinator === id) open.channel.resume();
        } catch {
          // Not a heartbeat: nothing else publishes here, and nothing is decided by it.
        }
      },
    });
    this.#coordinatorCheck = judgeEvery(NODE_LOST_MS / 5, () => this.#endOrphans());
    this.#nc.subscribe(this.#subjects.channelDownAll(name), {
      callback: (_error, message) => {
        const id = message.subject.split('.').at(-2) as string;
        const open = this.#channels.get(id);
        if (open) open.channel.receive(message.data);
        // Its coordinator still sends: it did not hear that its hosts were ended.
        else if (this.#ended.has(id)) this.#tellEnded(id);
        // Otherwise a channel not opened by a spawn here, of a process that was here before: ignored.
      },
    });
    this.#nc.subscribe(this.#subjects.channelDrop(name), {
      callback: (_error, message) => {
        const notice = readLostNotice(message.data);
        if (!notice) return;
        if (notice.channel !== undefined)
          this.#drop(notice.channel, 'its coordinator counted this node lost');
        // Told late, or again: only a notice about this incarnation makes a new one.
        if (notice.incarnation === this.beat.incarnation) this.#rejoin();
      },
    });
  }

  #beatNow(): void {
    this.#nc.publish(this.#subjects.alive(this.#options.name), encoder.encode(JSON.stringify(this.beat)));
  }

  /**
   * Counted lost while it still runs: the coordinator believes no beat of this incarnation again,
   * so this process beats as a new one, and joins as a node that came back.
   */
  #rejoin(): void {
    if (this.#over) return;
    const lost = this.beat.incarnation;
    this.beat = { ...this.beat, incarnation: nanoid(12) };
    this.#incarnations.add(this.beat.incarnation);
    // Only recent ones can still be in flight.
    if (this.#incarnations.size > INCARNATIONS_KEPT)
      this.#incarnations.delete(this.#incarnations.values().next().value as string);
    this.#options.log?.(
      `node "${this.#options.name}": its coordinator counted it lost (incarnation ${lost}); it joins again as incarnation ${this.beat.incarnation}`,
    );
    this.#beatNow();
  }

  /** Whether a spawn request names another incarnation of this node. */
  #forAnother(data: Uint8Array): boolean {
    try {
      const { incarnation } = JSON.parse(decoder.decode(data)) as { incarnation?: unknown };
      return typeof incarnation === 'string' && incarnation !== this.beat.incarnation;
    } catch {
      return false;
    }
  }

  /** The connection to NATS went: coordinators' silence proves nothing until it is back. */
  disconnected(): void {
    this.#coordinators.disconnected();
  }

  /** The connection to NATS is back: each link sends again what may have been lost. */
  reconnected(): void {
    // Every coordinator gets a full NODE_LOST_MS from now to be heard again.
    this.#coordinators.reconnected();
    for (const { channel } of this.#channels.values()) channel.resume();
  }

  /** Ends every host and stops beating; nothing of it keeps the process up after. */
  stop(): void {
    this.#over = true;
    clearInterval(this.#heartbeat);
    this.#coordinatorCheck?.stop();
    for (const host of this.#hosts.values()) host.kill();
    for (const { channel } of this.#channels.values()) channel.close();
    this.#stopped?.();
  }

  #spawn(request: SpawnRequest): void {
    checkSpawnRequest(request);
    const id = request.host;
    if (this.#started.has(id)) return;
    // A host's environment and arguments are this node's own (an allow-list, launch/host-env.ts):
    // what a request carries beside the fields above is dropped, and said (issue 26).
    const carried = Object.keys((request as { env?: unknown }).env ?? {});
    if (carried.length > 0) {
      this.#options.log?.(
        `host ${id}: its spawn request carried an environment (${carried.join(', ')}); ignored: a node builds its hosts' environment from its own allow-list`,
      );
    }
    const ended = this.#ended.get(request.channel);
    if (ended !== undefined) throw new Error(`its channel was ended here: ${ended}`);
    // Opened before this host is known here: a new channel ends only the hosts of the old one.
    const channel = this.#channelFor(request.channel, request.coordinator);
    const { modules, models } = this.#options;
    const host = this.#options.launcher(request.isolation ?? 'process').spawn({
      entry: request.gpu ? this.#options.gpuEntry : this.#options.hostEntry,
      ...(request.gpu ? { gpu: true } : {}),
      name: request.name,
      // A host reads its modules or models from this node's caches (the coordinator's paths are its own).
      readPaths: [request.gpu ? models.directory : modules.directory],
      ...(request.maxFrameBytes ? { maxFrameBytes: request.maxFrameBytes } : {}),
    });
    this.#started.add(id);
    this.#hosts.set(id, host);
    // A coordinator asking for a host is heard, if its beat has not come yet.
    if (!this.#coordinators.has(request.coordinator)) this.#coordinators.heard(request.coordinator);
    this.#options.onHost?.({
      host: id,
      agent: request.name,
      isolation: request.gpu ? 'gpu' : (request.isolation ?? 'process'),
    });
    this.#connect(id, request, host, channel);
  }

  /**
   * Joins the host to its channel: frames down (a Load's module or models fetched into this
   * node's cache first), frames up, and its exit, with why when this node could not feed it.
   */
  #connect(id: string, request: SpawnRequest, host: HostProcess, channel: HostChannel): void {
    const { modules, models } = this.#options;
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
    channel.attach(id, (kind, payload) => (kind === RecordKind.Frame ? forward(payload) : host.kill()));
    host.onFrame((frame) => channel.send(id, RecordKind.Frame, frame as Uint8Array));
    host.onOversize((bytes, limit) => {
      this.#options.log?.(`host ${id} sent a frame of ${bytes} bytes, above ${limit}: ended`);
      host.kill();
    });
    host.onExit((info) => {
      this.#hosts.delete(id);
      const exit = failure ? { ...info, stderrTail: failure } : info;
      channel.send(id, RecordKind.End, encoder.encode(JSON.stringify(exit)));
      channel.detach(id);
    });
  }

  /**
   * The channel `id` of `coordinator`, opened with its first host here. A coordinator opens a new
   * one only when it counted this node lost: the hosts of its old channel are ended (it has
   * restarted their agents elsewhere) and the old channel closed.
   */
  #channelFor(id: string, coordinator: string): HostChannel {
    const open = this.#channels.get(id);
    if (open) return open.channel;
    for (const [old, { coordinator: owner }] of this.#channels)
      if (owner === coordinator) this.#drop(old, 'its coordinator opened a new channel to this node');
    const up = this.#subjects.channelUp(this.#options.name, id);
    const channel = new HostChannel((bytes) => this.#nc.publish(up, bytes));
    this.#channels.set(id, { channel, coordinator });
    return channel;
  }

  /** Ends the hosts of channel `id` and closes it (their agents run elsewhere now). */
  #drop(id: string, why: string): void {
    const open = this.#channels.get(id);
    if (!open) return;
    for (const host of open.channel.hosts) {
      this.#options.log?.(`host ${host}: ${why}; ended`);
      this.#hosts.get(host)?.kill();
    }
    open.channel.close();
    this.#channels.delete(id);
  }

  /**
   * Ends the hosts of a coordinator not heard for NODE_LOST_MS: it died (or was cut off for good),
   * and whoever takes over its run starts hosts of its own (their ids never meet these).
   */
  #endOrphans(): void {
    const gone = new Set(this.#coordinators.silent(NODE_LOST_MS));
    if (gone.size === 0) return;
    // A host is on its coordinator's channel: ending the channel's hosts ends the coordinator's.
    const why = `its coordinator was not heard for ${NODE_LOST_MS} ms`;
    for (const [id, { coordinator }] of this.#channels)
      if (gone.has(coordinator)) {
        this.#drop(id, why);
        // Gone, or only slow (busy, starved, cut off from NATS alone): if it is still there, it
        // must know its hosts ended, or it would wait for them for ever.
        this.#ended.set(id, why);
        if (this.#ended.size > ENDED_KEPT) this.#ended.delete(this.#ended.keys().next().value as string);
        this.#tellEnded(id);
      }
    for (const id of gone) this.#coordinators.forget(id);
  }

  #tellEnded(id: string): void {
    this.#nc.publish(
      this.#subjects.channelEnded(this.#options.name, id),
      encoder.encode(this.#ended.get(id) ?? ''),
    );
  }
}

/** Refuses a malformed spawn request by naming the field (nothing from the wire is trusted). */
function checkSpawnRequest(request: SpawnRequest): void {
  for (const field of ['host', 'incarnation', 'coordinator', 'channel', 'name'] as const)
    if (typeof request?.[field] !== 'string' || request[field] === '')
      throw new Error(`a spawn request needs a "${field}" (a non-empty string)`);
  if (request.isolation !== undefined && request.isolation !== 'thread' && request.isolation !== 'shared')
    throw new Error(
      `a spawn request's "isolation" is "thread" or "shared" when given (got ${JSON.stringify(request.isolation)})`,
    );
  const { maxFrameBytes } = request;
  if (maxFrameBytes !== undefined && !(Number.isSafeInteger(maxFrameBytes) && maxFrameBytes > 0))
    throw new Error(
      `a spawn request's "maxFrameBytes" is a positive integer (got ${JSON.stringify(maxFrameBytes)})`,
    );
}
