// Agent snapshots: linear memory plus mutable globals at a tick boundary, in a versioned,
// checksummed format tied to the module it was taken from. A snapshot that fails any check is
// refused with the reason; the caller then starts the agent from init.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { errorText } from '../protocol/index.js';

const MAGIC = 'TRPS';
export const SNAPSHOT_VERSION = 1;
const HEADER = 4 + 1 + 32 + 32;
const PAGE = 65536;

export interface SnapshotTarget {
  memory: WebAssembly.Memory;
  /** Exported mutable globals, in a stable order. */
  globals: readonly WebAssembly.Global[];
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** First 8 bytes of the SHA-256 of an agent's globals and memory: equal states, equal hashes. */
export function stateHash(target: SnapshotTarget): Uint8Array {
  const hash = createHash('sha256');
  for (const global of target.globals) hash.update(String(global.value));
  hash.update(new Uint8Array(target.memory.buffer));
  return hash.digest().subarray(0, 8);
}

/** Layout: "TRPS", version, module sha-256, body sha-256, deflated body (globals, then memory). */
export function takeSnapshot(target: SnapshotTarget, moduleHash: Uint8Array): Uint8Array {
  const values = Buffer.alloc(4 + target.globals.length * 9);
  values.writeUInt32LE(target.globals.length, 0);
  target.globals.forEach((global, index) => {
    const at = 4 + index * 9;
    const value = global.value;
    if (typeof value === 'bigint') {
      values.writeUInt8(1, at);
      values.writeBigInt64LE(value, at + 1);
    } else {
      values.writeUInt8(0, at);
      values.writeDoubleLE(value as number, at + 1);
    }
  });
  const body = deflateRawSync(Buffer.concat([values, new Uint8Array(target.memory.buffer)]));
  return Buffer.concat([Buffer.from(MAGIC), Buffer.from([SNAPSHOT_VERSION]), moduleHash, sha256(body), body]);
}

export type RestoreResult = { ok: true } | { ok: false; reason: string };

export function restoreSnapshot(
  bytes: Uint8Array,
  target: SnapshotTarget,
  moduleHash: Uint8Array,
): RestoreResult {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < HEADER || data.toString('latin1', 0, 4) !== MAGIC)
    return { ok: false, reason: 'not a snapshot' };
  if (data[4] !== SNAPSHOT_VERSION)
    return { ok: false, reason: `snapshot version ${data[4]}, expected ${SNAPSHOT_VERSION}` };
  if (!data.subarray(5, 37).equals(moduleHash)) return { ok: false, reason: 'snapshot of another module' };
  const body = data.subarray(HEADER);
  if (!sha256(body).equals(data.subarray(37, 69))) return { ok: false, reason: 'snapshot checksum mismatch' };
  let plain: Buffer;
  try {
    plain = inflateRawSync(body);
  } catch (error) {
    return { ok: false, reason: `snapshot does not inflate: ${errorText(error)}` };
  }
  const count = plain.readUInt32LE(0);
  const memoryStart = 4 + count * 9;
  if (
    count !== target.globals.length ||
    memoryStart > plain.length ||
    (plain.length - memoryStart) % PAGE !== 0
  ) {
    return { ok: false, reason: 'snapshot does not fit this module (globals or memory size)' };
  }
  const pages = (plain.length - memoryStart) / PAGE;
  const current = target.memory.buffer.byteLength / PAGE;
  if (pages < current) return { ok: false, reason: 'snapshot memory is smaller than the fresh instance' };
  if (pages > current) target.memory.grow(pages - current);
  new Uint8Array(target.memory.buffer).set(plain.subarray(memoryStart));
  target.globals.forEach((global, index) => {
    const at = 4 + index * 9;
    global.value = plain.readUInt8(at) === 1 ? plain.readBigInt64LE(at + 1) : plain.readDoubleLE(at + 1);
  });
  return { ok: true };
}
