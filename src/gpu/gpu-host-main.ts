// GPU host process entry: wiring only. Started by a launcher like an agent host; owns every ONNX
// Runtime session of the system (DESIGN §8).
import { testDelay } from '../actors/index.js';
import { connectToParent } from '../launch/index.js';
import { decodeGpuFrame, encodeGpuFrame } from '../protocol/index.js';
import { GpuHost } from './gpu-host.js';

const channel = connectToParent();
const host = new GpuHost(
  (events) => {
    // TROUPE_TEST_HOST_DELAY_MS: answers come back after random delays (tests of strict mode).
    const delay = testDelay();
    if (delay) void delay.then(() => channel.send(encodeGpuFrame({ events })));
    else channel.send(encodeGpuFrame({ events }));
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
