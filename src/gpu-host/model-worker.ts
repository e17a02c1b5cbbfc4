// Worker thread entry: owns one model's ONNX Runtime session, so that session.run (which blocks
// the JS thread in onnxruntime-node) never blocks the GPU host's IPC.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { errorText } from '../protocol/index.js';
import { bytesOf, DTYPES, toTypedArray } from './dtypes.js';
import { openSession } from './open-session.js';
import type { RawTensor } from './stack.js';
import type { FromWorker, ToWorker, WorkerModelSpec, WorkerTensorMeta } from './worker-messages.js';

const port = parentPort;
if (!port) throw new Error('model-worker.js runs as a worker thread of the GPU host');
let session: ort.InferenceSession | undefined;

const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (message: ToWorker) => {
  if (message.type === 'load') void load(message.spec);
  else void run(message.id, message.inputs, message.outputs);
});

async function load(spec: WorkerModelSpec): Promise<void> {
  const started = performance.now();
  const opened = await openSession(spec.path, spec);
  if ('failed' in opened) {
    post({ type: 'failed', reason: opened.failed, skipped: opened.skipped });
    return;
  }
  session = opened.session;
  const { provider, skipped, inputs, outputs } = opened;
  if (spec.warmup) await session.run(Object.fromEntries(inputs.map((input) => [input.name, zeros(input)])));
  post({ type: 'ready', provider, skipped, inputs, outputs, loadMs: performance.now() - started });
}

async function run(id: number, inputs: RawTensor[], wanted: string[]): Promise<void> {
  try {
    if (!session) throw new Error('the model is not loaded');
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      feeds[input.name] = new ort.Tensor(
        input.dtype as 'float32',
        toTypedArray(input.dtype, input.data) as Float32Array,
        input.dims,
      );
    }
    const results = await session.run(feeds, wanted);
    const outputs: RawTensor[] = wanted.map((name) => {
      const tensor = results[name] as ort.Tensor;
      const data = bytesOf(tensor.data as ArrayBufferView).slice();
      return { name, dtype: tensor.type, dims: [...tensor.dims], data };
    });
    post(
      { type: 'ran', id, outputs },
      outputs.map((output) => output.data.buffer as ArrayBuffer),
    );
  } catch (error) {
    post({ type: 'run-failed', id, reason: errorText(error).split('\n')[0] ?? 'run failed' });
  }
}

/** One row of zeros (dynamic dimensions taken as 1) for the warm-up run. */
function zeros(meta: WorkerTensorMeta): ort.Tensor {
  const dims = meta.dims.map((dim) => (typeof dim === 'number' ? dim : 1));
  const count = dims.reduce((product, dim) => product * dim, 1);
  const bytes = new Uint8Array(count * (DTYPES[meta.dtype]?.bytes ?? 4));
  return new ort.Tensor(meta.dtype as 'float32', toTypedArray(meta.dtype, bytes) as Float32Array, dims);
}
