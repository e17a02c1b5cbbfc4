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
  // Optional: the sequence number the next `send` gets, and the agent's own name, so an SDK can
  // tell the id ("<name>#<seq>") of a message before sending it.
  next_seq: 'function',
  self: 'function',
  // Optional: the correlation id of the message being handled (what an answer names).
  correlation: 'function',
  // Optional: `send` with a delay in ticks (a timer, when sent to oneself).
  send_delayed: 'function',
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

/** Exports an agent module may not have: the meter adds its own under this prefix. */
export const RESERVED_PREFIX = '__troupe_';

/** Exported i32 global (added by meter.ts) the host sets to the fuel budget before each call. */
export const FUEL_GLOBAL = '__troupe_fuel';

/** The module's start function, exported by meter.ts so the host runs it with a fuel budget. */
export const START_EXPORT = '__troupe_start';

/** Prefix of the exports (added by meter.ts) that expose the module's mutable globals. */
export const GLOBAL_EXPORT_PREFIX = '__troupe_g';

/** Version of the instrumentation meter.ts applies; bump it when that changes, so caches rebuild. */
export const METER_VERSION = 6;

/**
 * What one host may report for one tick; the sandbox keeps within these and the supervisor checks
 * them again (a host that breaks one is at fault, whatever its sandbox says).
 */
export const HOST_LIMITS = {
  /** Log lines kept per tick; more are counted in one extra line. */
  logLinesPerTick: 200,
  /** Bytes of one log line; a longer one is cut. */
  logLineBytes: 4096,
  /** Bytes of a crash or load-failure reason; a longer one is cut. */
  reasonBytes: 16384,
  /** Bytes an agent sends in one tick: payloads, addresses and kinds, 16 more per message. */
  outputBytesPerTick: 64 * 1024 * 1024,
  /** Ticks a message may be delayed by (a timer). */
  maxDelayTicks: 1_000_000,
} as const;

/** Overhead counted per sent message toward HOST_LIMITS.outputBytesPerTick. */
export const OUTPUT_OVERHEAD = 16;
