// Model files reach a GPU host on another machine from the coordinator, as agent modules do: the
// GPU host's Load names each model at the coordinator's path (an .onnx file, or an LLM's folder);
// the node asks the coordinator for the model's listing (each file's relative path, size and
// SHA-256), keeps it under a folder named by the listing's hash in its own cache
// (`$XDG_CACHE_HOME/troupe/models`), fetches what it lacks in chunks, checks every file's size and
// hash, and hands its GPU host its own path (the host may read only that cache). Only the paths
// the coordinator gave its remote GPU hosts are served, and only the files their listings name.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeGpuFrame, encodeGpuFrame, errorText } from '../protocol/index.js';
import { hashFile, modelFiles, readFileAt } from '../supervisor/index.js';
import {
  CHUNK_BYTES,
  chunkReply,
  decodeRequest,
  encodeRequest,
  FETCH_TIMEOUT_MS,
  failedReply,
  fetchOnce,
  jsonReply,
  readChunkReply,
  readJsonReply,
} from './chunk-wire.js';
import { subjects } from './subjects.js';

interface ListedFile {
  /** Relative to the model's folder (a file model: its own name). */
  path: string;
  size: number;
  sha256: string;
}

/** What a model is made of: one file, or a folder's files. */
export interface ModelListing {
  kind: 'file' | 'folder';
  files: ListedFile[];
}

/** The coordinator's side: lists and serves the models of GPU hosts started on nodes. */
export class ModelServer {
  readonly #allowed = new Set<string>();
  /** Listings by path, with the sizes and times they were made from (remade when those change). */
  readonly #listings = new Map<string, { signature: string; listing: ModelListing }>();
  readonly #subscription: Subscription;

  constructor(nc: NatsConnection, cluster: string) {
    this.#subscription = nc.subscribe(subjects(cluster).model, {
      callback: (_error, message) => {
        let reply: Uint8Array;
        try {
          reply = this.#answer(decodeRequest(message.data));
        } catch (error) {
          reply = failedReply(`a model request that cannot be answered: ${errorText(error)}`);
        }
        message.respond(reply);
      },
    });
  }

  /** The model at `path` (a file or a folder) may be served. */
  allow(path: string): void {
    this.#allowed.add(path);
  }

  close(): void {
    this.#subscription.unsubscribe();
  }

  #answer(request: Record<string, unknown>): Uint8Array {
    const { path, file, offset } = request;
    if (typeof path !== 'string' || !this.#allowed.has(path))
      return failedReply(`the coordinator serves no model at "${String(path)}"`);
    const listing = this.#listing(path);
    if (file === undefined) return jsonReply(listing);
    if (typeof file !== 'string' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
      return failedReply('a model chunk request needs a file of the listing and an offset');
    const listed = listing.files.find((entry) => entry.path === file);
    if (!listed) return failedReply(`model "${path}" has no file "${file}"`);
    const at = listing.kind === 'file' ? path : join(path, file);
    return chunkReply(
      listed.size,
      readFileAt(at, offset, Math.min(CHUNK_BYTES, Math.max(0, listed.size - offset))),
    );
  }

  #listing(path: string): ModelListing {
    const { kind, files } = modelFiles(path);
    if (files.length === 0) throw new Error(`model folder "${path}" holds no files`);
    const at = (file: string) => (kind === 'file' ? path : join(path, file));
    const stats = files.map((file) => statSync(at(file)));
    const signature = files.map((file, i) => `${file}:${stats[i]?.size}:${stats[i]?.mtimeMs}`).join('|');
    const known = this.#listings.get(path);
    if (known?.signature === signature) return known.listing;
    const listing: ModelListing = {
      kind,
      files: files.map((file, i) => ({ path: file, size: stats[i]?.size ?? 0, sha256: hashFile(at(file)) })),
    };
    this.#listings.set(path, { signature, listing });
    return listing;
  }
}

/** A relative path inside a model's folder: no absolute path, no "..", nothing empty. */
function isInside(file: string): boolean {
  if (file === '' || isAbsolute(file) || file.includes('\\')) return false;
  const parts = file.split('/');
  return (
    parts.every((part) => part !== '' && part !== '.' && part !== '..') && normalize(file) === parts.join(sep)
  );
}

/** Whether a GPU frame's first command is a Load (field 1 of the frame, field 1 of the command). */
export function startsWithGpuLoad(frame: Uint8Array): boolean {
  if (frame[0] !== 0x0a) return false;
  let at = 1;
  // Skip the command's length (a varint).
  while (at < frame.length && (frame[at] as number) & 0x80) at++;
  return frame[at + 1] === 0x0a;
}

/** The node's side: the local path of a coordinator's model, fetched once when missing. */
export class ModelFetcher {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #dir: string;
  readonly #fetching = new Map<string, Promise<string>>();

  /** `dir`: this node's model cache. */
  constructor(nc: NatsConnection, cluster: string, dir: string) {
    this.#nc = nc;
    this.#subject = subjects(cluster).model;
    this.#dir = dir;
  }

  /** The folder this node's GPU hosts read models from. */
  get directory(): string {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    return this.#dir;
  }

  /** The path here of the coordinator's model at `coordinatorPath`; rejects with the reason. */
  localPath(coordinatorPath: string): Promise<string> {
    return fetchOnce(this.#fetching, coordinatorPath, () => this.#fetch(coordinatorPath));
  }

  /** A GPU frame whose Load names models at the coordinator's paths, with this node's paths. */
  async localizeLoad(frame: Uint8Array): Promise<Uint8Array | undefined> {
    if (!startsWithGpuLoad(frame)) return undefined;
    const decoded = decodeGpuFrame(frame);
    if (!decoded.ok) return undefined;
    for (const command of decoded.frame.commands)
      for (const model of command.load?.models ?? [])
        if (model.path) model.path = await this.localPath(model.path);
    return encodeGpuFrame(decoded.frame);
  }

  async #ask(request: object): Promise<Uint8Array> {
    const reply = await this.#nc.request(this.#subject, encodeRequest(request), {
      timeout: FETCH_TIMEOUT_MS,
    });
    return reply.data;
  }

  async #fetch(path: string): Promise<string> {
    const what = `model "${path}"`;
    const listing = readJsonReply(await this.#ask({ path }), what) as ModelListing;
    if (
      (listing?.kind !== 'file' && listing?.kind !== 'folder') ||
      !Array.isArray(listing.files) ||
      listing.files.length === 0 ||
      (listing.kind === 'file' && listing.files.length !== 1) ||
      !listing.files.every(
        (file) =>
          typeof file?.path === 'string' &&
          isInside(file.path) &&
          Number.isSafeInteger(file.size) &&
          file.size >= 0 &&
          /^[0-9a-f]{64}$/.test(file.sha256),
      )
    )
      throw new Error(`the listing of ${what} is malformed`);
    const key = createHash('sha256').update(JSON.stringify(listing)).digest('hex').slice(0, 32);
    const target = join(this.directory, key);
    const local = (root: string) =>
      listing.kind === 'file' ? join(root, (listing.files[0] as ListedFile).path) : root;
    // A folder named by its listing's hash is complete: it is renamed into place only once checked.
    if (existsSync(target)) return local(target);
    const partial = mkdtempSync(join(this.directory, `${key}.partial-`));
    try {
      for (const file of listing.files)
        await this.#fetchFile(path, file, join(partial, ...file.path.split('/')));
      try {
        renameSync(partial, target);
      } catch (error) {
        // Another node process on this machine kept the same model first.
        if (!existsSync(target)) throw error;
      }
      return local(target);
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }

  async #fetchFile(model: string, file: ListedFile, to: string): Promise<void> {
    const what = `file "${file.path}" of model "${model}"`;
    mkdirSync(dirname(to), { recursive: true });
    const fd = openSync(to, 'w', 0o600);
    const hash = createHash('sha256');
    let offset = 0;
    try {
      while (offset < file.size) {
        const { total, chunk } = readChunkReply(
          await this.#ask({ path: model, file: file.path, offset }),
          what,
        );
        if (total !== file.size) throw new Error(`${what} is ${total} bytes, its listing says ${file.size}`);
        if (chunk.length === 0) throw new Error(`${what} came short (${offset} of ${file.size} bytes)`);
        writeSync(fd, chunk);
        hash.update(chunk);
        offset += chunk.length;
      }
    } finally {
      closeSync(fd);
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== file.sha256)
      throw new Error(
        `${what} came altered (SHA-256 ${sha256.slice(0, 12)}…, listed ${file.sha256.slice(0, 12)}…)`,
      );
  }
}
