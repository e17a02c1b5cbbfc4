// A standby coordinator (`troupe cluster … --journal js:NAME --standby`) waits while the
// coordinator of its system beats, and takes the run over when it falls silent: it reads the
// journal the coordinator kept in JetStream, and (in cluster-command) resumes the run from it on
// the nodes still up, whose hosts of the old coordinator end by themselves.
import type { NatsConnection } from '@nats-io/transport-node';
import { readStreamJournal, type StoredJournal } from './journal-stream.js';
import { isCoordinatorBeat } from './membership.js';
import { watchConnection } from './nats-connect.js';
import { afterReading, Silence } from './silence.js';
import { NODE_LOST_MS, subjects } from './subjects.js';

export type StandbyOutcome =
  /** The coordinator is gone and its run did not end: the journal to resume. */
  | { takeover: StoredJournal }
  /** The run ended on its coordinator: nothing to take over. */
  | { ended: NonNullable<StoredJournal['ended']> };

/**
 * Watches the beats of `system`'s running coordinator: `quiet` once none has been heard for
 * NODE_LOST_MS (counted while this process is connected, from when it starts watching).
 */
export function watchCoordinator(nc: NatsConnection, system: string): { quiet(): boolean; stop(): void } {
  const coordinator = new Silence<'coordinator'>();
  // Counted from now: a coordinator gets the whole time to be heard first.
  coordinator.heard('coordinator');
  // A standby following the run beats too; only a running coordinator's beats count.
  const beats = nc.subscribe(subjects(system).coordinator, {
    callback: (_error, message) => {
      if (isCoordinatorBeat(message.data)) coordinator.heard('coordinator');
    },
  });
  const watch = watchConnection(nc, {
    disconnected: () => coordinator.disconnected(),
    reconnected: () => coordinator.reconnected(),
  });
  return {
    quiet: () => coordinator.silent(NODE_LOST_MS).length > 0,
    stop: () => {
      beats.unsubscribe();
      watch.stop();
    },
  };
}

/**
 * Resolves once no coordinator of `system` has been heard for NODE_LOST_MS (counted while this
 * process is connected, from when it starts waiting) and the journal in `stream` holds a run.
 */
export async function awaitTakeover(
  nc: NatsConnection,
  system: string,
  stream: string,
): Promise<StandbyOutcome> {
  const coordinator = watchCoordinator(nc, system);
  try {
    for (;;) {
      await afterReading(NODE_LOST_MS / 5);
      if (!coordinator.quiet()) continue;
      const stored = await readStreamJournal(nc, system, stream);
      // No run yet (or not begun writing): the coordinator may be about to start.
      if (!stored || stored.records === 0) continue;
      // A coordinator may have started while the journal was read.
      if (!coordinator.quiet()) continue;
      return stored.ended ? { ended: stored.ended } : { takeover: stored };
    }
  } finally {
    coordinator.stop();
  }
}
