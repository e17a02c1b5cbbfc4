// The NATS subjects a cluster speaks on, all under `troupe.<cluster>.` (the system's name):
// nodes announce themselves and take spawn requests; the coordinator's hosts on a node share one
// channel, a subject each way (frames, kills one way, exits the other; see host-channel.ts). The
// coordinator beats too, so nodes end the hosts of a coordinator that is gone.

export function subjects(cluster: string) {
  const base = `troupe.${cluster}`;
  return {
    /** A node's heartbeat (JSON NodeBeat), every HEARTBEAT_MS. */
    alive: (node: string) => `${base}.node.${node}.alive`,
    aliveAll: `${base}.node.*.alive`,
    /** The coordinator's heartbeat (JSON { id, pid }), every HEARTBEAT_MS: nodes end the hosts of one gone silent. */
    coordinator: `${base}.coordinator.alive`,
    /** Request: start a host (JSON SpawnRequest); reply: JSON { ok } or { error }. */
    spawn: (node: string) => `${base}.node.${node}.spawn`,
    /** Request (JSON { file, offset }): a chunk of a module of the coordinator's cache. */
    module: `${base}.module`,
    /** Request (JSON { path } for a listing, { path, file, offset } for a chunk): a model of a GPU host. */
    model: `${base}.model`,
    /** Ask a node to end its hosts and exit. */
    shutdown: (node: string) => `${base}.node.${node}.shutdown`,
    /** A coordinator's channel to a node's hosts: frames and kills, acknowledgements of what came up. */
    channelDown: (node: string, channel: string) => `${base}.node.${node}.chan.${channel}.down`,
    channelDownAll: (node: string) => `${base}.node.${node}.chan.*.down`,
    /**
     * The coordinator counted the node lost (JSON LostNotice): end the hosts of that channel, and
     * join again as a new incarnation.
     */
    channelDrop: (node: string) => `${base}.node.${node}.drop`,
    /** From the node's hosts: frames and exits, acknowledgements of what went down. */
    channelUp: (node: string, channel: string) => `${base}.node.${node}.chan.${channel}.up`,
    /**
     * The node ended this channel's hosts on its own (it did not hear their coordinator): their
     * coordinator, if it was only slow, starts them again. Payload: the reason, as text.
     */
    channelEnded: (node: string, channel: string) => `${base}.node.${node}.chan.${channel}.ended`,
  };
}

/** How often a node says it is alive, and how long the coordinator waits before it counts it lost. */
export const HEARTBEAT_MS = 200;
export const NODE_LOST_MS = 1500;

/**
 * A node's heartbeat. `incarnation` is the node process's own id (a nanoid made at its start):
 * the coordinator believes one incarnation per name while it lives, and a node hearing another
 * under its name gives way if it is the younger (`since`, then the id).
 */
export interface NodeBeat {
  name: string;
  pid: number;
  incarnation: string;
  /** When the process began (ms since the epoch, its own clock). */
  since: number;
}

/** The beat in `data`, or undefined when it is not one (nothing is decided by a malformed beat). */
export function readBeat(data: Uint8Array): NodeBeat | undefined {
  try {
    const beat = JSON.parse(new TextDecoder().decode(data)) as Partial<NodeBeat> | null;
    if (typeof beat !== 'object' || beat === null) return undefined;
    const { name, pid, incarnation, since } = beat;
    if (typeof name !== 'string' || typeof incarnation !== 'string' || incarnation === '') return undefined;
    if (!Number.isSafeInteger(pid) || !Number.isFinite(since)) return undefined;
    return { name, pid: pid as number, incarnation, since: since as number };
  } catch {
    return undefined;
  }
}

/** Of two incarnations of one node name, whether `a` is the elder (the one that stays). */
export function elder(a: NodeBeat, b: NodeBeat): boolean {
  return a.since !== b.since ? a.since < b.since : a.incarnation < b.incarnation;
}

/**
 * What a coordinator tells a node it counted lost (its beats were late, or it was paused): the
 * incarnation it counted lost, and the channel whose hosts now run elsewhere, if one was open.
 */
export interface LostNotice {
  incarnation: string;
  channel?: string;
}

/** The notice in `data`, or undefined when it is not one. */
export function readLostNotice(data: Uint8Array): LostNotice | undefined {
  try {
    const notice = JSON.parse(new TextDecoder().decode(data)) as Partial<LostNotice> | null;
    if (typeof notice !== 'object' || notice === null || typeof notice.incarnation !== 'string')
      return undefined;
    if (notice.channel !== undefined && typeof notice.channel !== 'string') return undefined;
    return {
      incarnation: notice.incarnation,
      ...(notice.channel === undefined ? {} : { channel: notice.channel }),
    };
  } catch {
    return undefined;
  }
}

export interface SpawnRequest {
  host: string;
  /** The incarnation of the node it is for: another process under the node's name ignores it. */
  incarnation: string;
  /** The coordinator asking (its heartbeat's id): the host ends when that coordinator is gone. */
  coordinator: string;
  /** The coordinator's channel to this node its frames go on (host-channel.ts). */
  channel: string;
  name: string;
  readPaths?: readonly string[];
  maxFrameBytes?: number;
  /** The GPU host (the node starts its own GPU host entry, with the GPU's wider environment). */
  gpu?: boolean;
  /** How the node hosts the agent (default: a process of its own). */
  isolation?: 'thread' | 'shared';
}
