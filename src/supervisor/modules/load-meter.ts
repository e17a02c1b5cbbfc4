// The meter needs binaryen, which takes about a second to load: load it only when a module
// must be instrumented (a module-cache miss), never in agent hosts or for `troupe validate`.
import type { meterModule } from './meter.js';

export async function loadMeter(): Promise<typeof meterModule> {
  return (await import('./meter.js')).meterModule;
}
