// CPU time used by this process and every process it started (children, grandchildren), read
// from /proc: what a benchmark's work costs in all the processes it crosses. Linux only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** /proc's clock ticks per second (USER_HZ), the same on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** Seconds of CPU (user + system) used so far by this process tree; undefined without /proc. */
export function treeCpuSeconds() {
  if (!existsSync('/proc/self/stat')) return undefined;
  const parents = new Map();
  const cpu = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(entry), Number(fields[1]));
    cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
  }
  let total = 0;
  for (const [pid, seconds] of cpu) {
    let at = pid;
    while (at !== process.pid && parents.has(at)) at = parents.get(at);
    if (at === process.pid) total += seconds;
  }
  return total;
}

/** Microseconds of CPU per call between two readings, or undefined without /proc. */
export function cpuPerCall(before, after, calls) {
  if (before === undefined || after === undefined) return undefined;
  return ((after - before) / calls) * 1e6;
}
