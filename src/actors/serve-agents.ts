// Serves the agents a host is told to load, over the channel to its parent: the whole of an agent
// host's wiring, shared by its process entry and by hosts that wrap it (a host that delays
// batches, in the test suite).
import { readFile } from 'node:fs/promises';
import { connectToParent, staysUpWhenIdle } from '../launch/index.js';
import { decodeFrame, encodeFrame, type HostCommand } from '../protocol/index.js';
import { AgentHost } from './agent-host.js';

export interface ServeOptions {
  /** Runs before each batch is handled (e.g. a delay), given its command; the batch waits for it. */
  beforeDeliver?: (command: HostCommand) => Promise<void> | undefined;
}

export function serveAgents(options: ServeOptions = {}): void {
  const channel = connectToParent();
  const host = new AgentHost({
    readModule: (path) => readFile(path),
    emit: (events) => channel.send(encodeFrame({ events })),
    // A host with no agent left exits, unless it is a thread of the shared pool (which ends it).
    onIdleStop: () => {
      if (!staysUpWhenIdle()) setImmediate(() => process.exit(0));
    },
  });
  let queue: Promise<void> = Promise.resolve();
  channel.onFrame((bytes) => {
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) {
      // The supervisor never sends a bad frame; if it did, nothing this host does can be trusted.
      process.stderr.write(`agent host: rejected a frame from the supervisor: ${decoded.error}\n`);
      process.exit(70);
    }
    for (const command of decoded.frame.commands) {
      queue = queue.then(async () => {
        channel.running(command.agent ?? undefined);
        if (command.deliver) await options.beforeDeliver?.(command);
        await host.run(command);
        channel.running(undefined);
        // On the shared pool the launcher drops what the unloaded instance sent until it hears this.
        if (command.stop && staysUpWhenIdle()) {
          channel.send(encodeFrame({ events: [{ agent: command.agent, unloaded: {} }] }));
        }
      });
    }
  });
  channel.onParentGone(() => process.exit(0));
  // Ctrl+C in a terminal reaches the whole process group; stopping agents is the supervisor's call.
  process.on('SIGINT', () => {});
}
