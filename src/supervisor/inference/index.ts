// Running the GPU host: starting its process (for the executor), and driving it alone, with no
// system around it (`troupe models`, benchmarks). What it is asked and answers is the core's.
export { GpuAlone, type GpuAloneOptions } from './gpu-alone.js';
export { type GpuLaunchOptions, launchGpuHost } from './gpu-launch.js';
export { hashFile, modelFiles, modelHash, readFileAt } from './model-files.js';
