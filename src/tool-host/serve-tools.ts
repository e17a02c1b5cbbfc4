// Serves the tool host's commands over the channel to its parent (issue 28).
import { connectToParent } from '../launch/index.js';
import { decodeToolFrame, encodeToolFrame } from '../protocol/index.js';
import { ToolHost } from './tool-host.js';

export function serveTools(): void {
  const channel = connectToParent();
  const host = new ToolHost(
    (events) => channel.send(encodeToolFrame({ events })),
    () => setImmediate(() => process.exit(0)),
  );
  channel.onFrame((bytes) => {
    const decoded = decodeToolFrame(bytes);
    if (!decoded.ok) {
      process.stderr.write(`tool host: rejected a frame from the supervisor: ${decoded.error}\n`);
      process.exit(70);
    }
    for (const command of decoded.frame.commands) host.handle(command);
  });
  channel.onParentGone(() => process.exit(0));
  // Ctrl+C in a terminal reaches the whole process group; stopping is the supervisor's call.
  process.on('SIGINT', () => {});
}
