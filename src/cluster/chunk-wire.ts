// The answers of the coordinator's file servers (module-shipping.ts, model-shipping.ts) to a
// node's request, over NATS request/reply: [u8 0][u32 total size][bytes from the offset asked]
// for a chunk of a file, [u8 0][JSON] for a listing, [u8 1][reason] for a refusal. Chunks are
// 256 KB (NATS messages are at most 1 MB by default).

export const CHUNK_BYTES = 256 * 1024;
/** How long a node waits for one answer. */
export const FETCH_TIMEOUT_MS = 10_000;

const OK = 0;
const FAILED = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function chunkReply(total: number, chunk: Uint8Array): Uint8Array {
  const reply = new Uint8Array(5 + chunk.length);
  reply[0] = OK;
  new DataView(reply.buffer).setUint32(1, total, true);
  reply.set(chunk, 5);
  return reply;
}

export function jsonReply(value: unknown): Uint8Array {
  const text = encoder.encode(JSON.stringify(value));
  const reply = new Uint8Array(1 + text.length);
  reply[0] = OK;
  reply.set(text, 1);
  return reply;
}

export function failedReply(reason: string): Uint8Array {
  const text = encoder.encode(reason);
  const reply = new Uint8Array(1 + text.length);
  reply[0] = FAILED;
  reply.set(text, 1);
  return reply;
}

/** The payload of an answer; throws the server's reason, or says the answer is malformed. */
function payloadOf(data: Uint8Array, what: string): Uint8Array {
  if (data[0] === FAILED) throw new Error(decoder.decode(data.subarray(1)));
  if (data[0] !== OK) throw new Error(`a malformed answer for ${what}`);
  return data.subarray(1);
}

export function readChunkReply(data: Uint8Array, what: string): { total: number; chunk: Uint8Array } {
  const payload = payloadOf(data, what);
  if (payload.length < 4) throw new Error(`a malformed answer for ${what}`);
  const total = new DataView(payload.buffer, payload.byteOffset, payload.length).getUint32(0, true);
  return { total, chunk: payload.subarray(4) };
}

export function readJsonReply(data: Uint8Array, what: string): unknown {
  const payload = payloadOf(data, what);
  try {
    return JSON.parse(decoder.decode(payload));
  } catch {
    throw new Error(`a malformed answer for ${what}`);
  }
}

export function encodeRequest(request: object): Uint8Array {
  return encoder.encode(JSON.stringify(request));
}

export function decodeRequest(data: Uint8Array): Record<string, unknown> {
  const value = JSON.parse(decoder.decode(data)) as unknown;
  if (typeof value !== 'object' || value === null) throw new Error('not an object');
  return value as Record<string, unknown>;
}

/** The fetch of `key` under way, or a new one begun by `start`: asked for twice at once, fetched once. */
export function fetchOnce(
  fetching: Map<string, Promise<string>>,
  key: string,
  start: () => Promise<string>,
): Promise<string> {
  let promise = fetching.get(key);
  if (!promise) {
    promise = start().finally(() => fetching.delete(key));
    fetching.set(key, promise);
  }
  return promise;
}
