// A full garbage collection, for tests that check what a part lets go of (with WeakRef).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Collects garbage after the current job has ended: a WeakRef keeps its target alive until the
 * job that made or read it ends, so the collection waits for the next turn of the event loop.
 */
export async function collectGarbage(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
