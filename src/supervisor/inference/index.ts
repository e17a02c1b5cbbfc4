export { GpuService, type GpuServiceOptions, type GpuState, type ModelStatus } from './gpu-service.js';
export { type GpuPort, InferenceRouter, type RouterHooks } from './inference-router.js';
export { type PendingRequest, PendingRequests } from './pending-requests.js';
