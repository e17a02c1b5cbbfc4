// Names' patterns and every default of the system and actor files (shared by the schemas and the loader).

export const NAME_PATTERN = '^[a-z][a-z0-9_-]{0,62}$';
/** A tool grant: a whole server (`fs`), or one of its tools (`fs/read_file`; MCP tool names). */
export const TOOL_GRANT_PATTERN = '^[a-z][a-z0-9_-]{0,62}(/[A-Za-z0-9_.-]{1,128})?$';

export const DEFAULTS = {
  seed: 0,
  maxBatch: 1024,
  retryLimit: 2,
  strategy: 'one_for_one',
  maxRestarts: 5,
  periodMs: 10_000,
  restart: 'permanent',
  maxMessageBytes: 1024 * 1024,
  fuel: 100_000_000,
  memoryPages: 1024,
  maxSendsPerMessage: 10_000,
  mailboxSize: 10_000,
  mailboxOverflow: 'dead-letter',
  backoff: { initialTicks: 1, maxTicks: 64, multiplier: 2, jitter: 0 },
  watchdogMs: 10_000,
  isolation: 'process',
  inference: 'live',
  providers: ['cpu'],
  threads: 1,
  batching: { enabled: false, maxBatch: 8, maxQueueDelayMs: 2 },
  maxRequestBytes: 64 * 1024 * 1024,
  toolTimeoutMs: 30_000,
  toolMaxAnswerBytes: 1024 * 1024,
  toolMaxConcurrent: 4,
  remoteTimeoutMs: 120_000,
  prefixCache: { maxBytes: 256 * 1024 * 1024, blockTokens: 16 },
} as const;
