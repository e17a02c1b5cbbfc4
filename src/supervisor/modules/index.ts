// Public surface of module preparation on the supervisor's side: the fuel meter a module is
// rewritten with before any host loads it (agent modules at prepare time, QuickJS's engine at
// build time). The module cache (../module-cache.ts) keeps what it makes.
export { loadMeter } from './load-meter.js';
// The meter itself only through loadMeter: binaryen takes about a second to load.
export type { MeterOptions, MeterResult } from './meter.js';
