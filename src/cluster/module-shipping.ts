// Agent modules reach nodes on other machines from the coordinator: a host's Load names a file of
// the coordinator's module cache (metered, content-keyed); the node looks for that entry in its own
// cache and, when it is not there, fetches it from the coordinator in chunks (NATS messages are
// at most 1 MB by default), keeps it (verified like every cache entry), and hands the host its own
// path. Nothing but cache entries (`<32 hex digits>.wasm|.js`) of folders the coordinator gave its
// hosts is ever served.
import { basename } from 'node:path';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeFrame, encodeFrame, errorText, peekFrame } from '../protocol/index.js';
import { ModuleCache } from '../supervisor/index.js';
import {
  CHUNK_BYTES,
  chunkReply,
  decodeRequest,
  encodeRequest,
  FETCH_TIMEOUT_MS,
  failedReply,
  fetchOnce,
  readChunkReply,
} from './chunk-wire.js';
import { subjects } from './subjects.js';

/** The coordinator's side: serves the entries of its module caches to nodes. */
export class ModuleServer {
  readonly #caches = new Map<string, ModuleCache>();
  readonly #subscription: Subscription;

  constructor(nc: NatsConnection, cluster: string) {
    this.#subscription = nc.subscribe(subjects(cluster).module, {
      callback: (_error, message) => {
        let reply: Uint8Array;
        try {
          const { file, offset } = decodeRequest(message.data);
          reply = this.#chunk(file, offset);
        } catch (error) {
          reply = failedReply(`a module request that does not parse: ${errorText(error)}`);
        }
        message.respond(reply);
      },
    });
  }

  /** Entries of `dir` may be served (it holds the modules of hosts started on nodes). */
  allow(dir: string): void {
    if (!this.#caches.has(dir)) this.#caches.set(dir, new ModuleCache(dir));
  }

  close(): void {
    this.#subscription.unsubscribe();
  }

  #chunk(file: unknown, offset: unknown): Uint8Array {
    if (typeof file !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
      return failedReply('a module request needs a file name and an offset');
    for (const cache of this.#caches.values()) {
      const bytes = cache.read(file);
      if (!bytes) continue;
      return chunkReply(bytes.length, bytes.subarray(offset, offset + CHUNK_BYTES));
    }
    return failedReply(`the coordinator has no module "${file}"`);
  }
}

/** The node's side: the local path of a coordinator's module, fetched once when missing. */
export class ModuleFetcher {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #cache: ModuleCache;
  readonly #fetching = new Map<string, Promise<string>>();

  constructor(nc: NatsConnection, cluster: string, cache: ModuleCache) {
    this.#nc = nc;
    this.#subject = subjects(cluster).module;
    this.#cache = cache;
  }

  /** The folder this node's hosts load modules from. */
  get directory(): string {
    return this.#cache.ensureDirectory();
  }

  /** The path here of the coordinator's module at `coordinatorPath`; rejects with the reason. */
  async localPath(coordinatorPath: string): Promise<string> {
    const file = basename(coordinatorPath);
    const cached = this.#cache.pathOf(file);
    if (cached) return cached;
    return fetchOnce(this.#fetching, file, () => this.#fetch(file));
  }

  /**
   * A frame of commands for a host, its module path made this node's when it is a Load; other
   * frames as they are (undefined: no change needed).
   */
  async localizeLoad(frame: Uint8Array): Promise<Uint8Array | undefined> {
    if (peekFrame(frame)?.command !== 'load') return undefined;
    const decoded = decodeFrame(frame);
    if (!decoded.ok) return undefined;
    for (const command of decoded.frame.commands)
      if (command.load?.modulePath) command.load.modulePath = await this.localPath(command.load.modulePath);
    return encodeFrame(decoded.frame);
  }

  async #fetch(file: string): Promise<string> {
    if (!ModuleCache.isEntryName(file)) throw new Error(`"${file}" is not a module of a Troupe cache`);
    const parts: Uint8Array[] = [];
    let offset = 0;
    let total = Number.POSITIVE_INFINITY;
    while (offset < total) {
      const reply = await this.#nc.request(this.#subject, encodeRequest({ file, offset }), {
        timeout: FETCH_TIMEOUT_MS,
      });
      const answer = readChunkReply(reply.data, `module "${file}"`);
      total = answer.total;
      const chunk = answer.chunk;
      if (chunk.length === 0 && offset < total)
        throw new Error(`module "${file}" came short (${offset} of ${total} bytes)`);
      parts.push(chunk.slice());
      offset += chunk.length;
    }
    return this.#cache.store(file, Buffer.concat(parts));
  }
}
