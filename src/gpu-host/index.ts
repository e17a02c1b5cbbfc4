// Public surface of the GPU host side: what the supervisor and tools may use without loading ORT.
export { type BatchPolicy, BatchQueue } from './batch-queue.js';
export { bytesOf, DTYPES, toTypedArray } from './dtypes.js';
export {
  batchingRefusal,
  type ModelDim,
  type ModelInfo,
  type TensorMeta,
} from './model-info.js';
export { probeOrder, probeProviders } from './provider-probe.js';
export { type CheckedRequest, checkRequest } from './request-check.js';
export { type RawTensor, splitOutputs, stackInputs } from './stack.js';
export { type CoalescerEdges, StreamCoalescer, TOKEN_WINDOW_MS } from './stream-coalescer.js';
