// The GPU host as the supervisor runs it (GpuService); routing requests and answers is the core's.
export { GpuService, type GpuServiceOptions, type GpuState } from './gpu-service.js';
export { hashFile, modelFiles, modelHash, readFileAt } from './model-files.js';
