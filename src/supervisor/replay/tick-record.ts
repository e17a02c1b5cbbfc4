// The journal record of one tick: per agent that got a batch, the first 8 bytes of the SHA-256
// of the Deliver command it was sent. Replay compares these to name the tick and agent that differ.
import { createHash } from 'node:crypto';
import type { JournalRecord } from '../../protocol/index.js';

export const TICK_HASH_BYTES = 8;

export function deliveryHash(deliver: Uint8Array): Uint8Array {
  return createHash('sha256').update(deliver).digest().subarray(0, TICK_HASH_BYTES);
}

/** One tick's deliveries: per agent, the deliveryHash of its Deliver. */
export type SentBatches = ReadonlyArray<{ agent: string; hash: Uint8Array }>;

export function tickRecord(tick: number, sent: SentBatches): JournalRecord {
  return {
    tick: {
      tick,
      agents: sent.map((batch) => batch.agent),
      hashes: sent.map((batch) => batch.hash),
    },
  };
}
