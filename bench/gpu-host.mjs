// A GPU host with one model loaded, for the benchmarks: `send(request, onAnswer)` submits a
// request and hands every answer to it (streamed parts too) to `onAnswer`.
import { NodeLauncher } from '../dist/launch/index.js';
import { GpuAlone, systemClock } from '../dist/supervisor/index.js';

export async function startGpuHost(model) {
  const listeners = new Map();
  let ready;
  const loaded = new Promise((resolve) => {
    ready = resolve;
  });
  const gpu = new GpuAlone({
    launcher: new NodeLauncher(),
    models: [
      {
        type: 'onnx',
        providers: ['cpu'],
        intraOpThreads: 1,
        interOpThreads: 1,
        batching: { enabled: false, maxBatch: 1, maxQueueDelayMs: 0 },
        warmup: false,
        maxRequestBytes: 1 << 30,
        prefixCache: { enabled: false, maxBytes: 0, blockTokens: 16 },
        ...model,
      },
    ],
    clock: systemClock,
    onAnswer: (id, answer) => listeners.get(id)?.(answer),
    onEvent: (event) => {
      if (event.type === 'model.ready') ready();
    },
  });
  gpu.start();
  await loaded;
  let next = 0;
  // Requests sent together (in one turn of the event loop) go to the host together, as the
  // requests agents make in one tick do (one frame per tick).
  let together = [];
  const send = (request, onAnswer) => {
    const id = `bench#${++next}`;
    listeners.set(id, onAnswer);
    together.push({ id, model: model.name, request });
    if (together.length > 1) return;
    queueMicrotask(() => {
      const requests = together;
      together = [];
      gpu.submit(requests);
    });
  };
  return { gpu, send };
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
