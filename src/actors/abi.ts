// ABI v1 between an agent host and a WASM agent module; docs/abi.md is the prose version.

/** Every import an agent may have comes from this module name; the version is part of it. */
export const ABI_MODULE = 'troupe.v1';
export const ABI_VERSION = 'troupe.v1';

/** The imports ABI v1 offers, with their WebAssembly kind. Nothing else may be imported. */
export const ABI_IMPORTS: Readonly<Record<string, WebAssembly.ImportExportKind>> = {
  send: 'function',
  log: 'function',
  now: 'function',
  random: 'function',
};

export const REQUIRED_EXPORTS: Readonly<Record<string, WebAssembly.ImportExportKind>> = {
  memory: 'memory',
  troupe_alloc: 'function',
  troupe_init: 'function',
  troupe_handle: 'function',
};

/** Return values of `troupe_handle`. */
export const HANDLE_CONTINUE = 0;
export const HANDLE_FINISHED = 1;

/** Return values of the `send` import. */
export const SEND_OK = 0;
export const SEND_MALFORMED = -1;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const FATAL = 4;

/**
 * A message block is a sequence of fields, each a little-endian u32 byte length then the bytes.
 * Incoming blocks (troupe_handle) hold [from, kind, id, payload];
 * outgoing blocks (send) hold [to, kind, correlation id, payload].
 */
export const BLOCK_FIELDS = 4;

export function blockSize(fields: readonly Uint8Array[]): number {
  let size = 0;
  for (const field of fields) size += 4 + field.length;
  return size;
}

export function writeBlock(target: Uint8Array, offset: number, fields: readonly Uint8Array[]): void {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  let at = offset;
  for (const field of fields) {
    view.setUint32(at, field.length, true);
    target.set(field, at + 4);
    at += 4 + field.length;
  }
}

/** Reads a block's fields as copies; undefined when the lengths run past the block. */
export function readBlock(source: Uint8Array, offset: number, length: number): Uint8Array[] | undefined {
  const end = offset + length;
  if (offset < 0 || length < 0 || end > source.length) return undefined;
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const fields: Uint8Array[] = [];
  let at = offset;
  for (let i = 0; i < BLOCK_FIELDS; i++) {
    if (at + 4 > end) return undefined;
    const size = view.getUint32(at, true);
    if (at + 4 + size > end) return undefined;
    fields.push(source.slice(at + 4, at + 4 + size));
    at += 4 + size;
  }
  return at === end ? fields : undefined;
}
