export { GpuService, type GpuServiceOptions, type GpuState, type ModelStatus } from './gpu-service.js';
export { type PendingRequest, PendingRequests } from './pending-requests.js';
