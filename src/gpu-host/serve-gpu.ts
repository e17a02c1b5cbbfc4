// Serves the GPU host's commands over the channel to its parent (DESIGN §8).
import { connectToParent } from '../launch/index.js';
import { decodeGpuFrame, encodeGpuFrame, type GpuEvent } from '../protocol/index.js';
import { GpuHost } from './gpu-host.js';
import { StreamCoalescer, TOKEN_WINDOW_MS } from './stream-coalescer.js';

export interface ServeGpuOptions {
  /** Runs before each frame of answers goes out (e.g. a delay); the frame waits for it. */
  beforeAnswer?: () => Promise<void> | undefined;
}

/** The GPU host's whole wiring, shared by its process entry and by hosts that wrap it. */
export function serveGpu(options: ServeGpuOptions = {}): void {
  const channel = connectToParent();
  const frames = new StreamCoalescer<GpuEvent>(
    {
      send: (events) => {
        const wait = options.beforeAnswer?.();
        if (wait) void wait.then(() => channel.send(encodeGpuFrame({ events })));
        else channel.send(encodeGpuFrame({ events }));
      },
      now: () => performance.now(),
      later: (run, ms) => setTimeout(run, ms),
    },
    TOKEN_WINDOW_MS,
  );
  const host = new GpuHost(
    (events, streamed) => {
      if (streamed) frames.stream(events, streamed === 'first');
      else frames.now(events);
    },
    () => setImmediate(() => process.exit(0)),
  );
  channel.onFrame((bytes) => {
    const decoded = decodeGpuFrame(bytes);
    if (!decoded.ok) {
      process.stderr.write(`gpu host: rejected a frame from the supervisor: ${decoded.error}\n`);
      process.exit(70);
    }
    for (const command of decoded.frame.commands) host.handle(command);
  });
  channel.onParentGone(() => process.exit(0));
  // Ctrl+C in a terminal reaches the whole process group; stopping is the supervisor's call.
  process.on('SIGINT', () => {});
}
