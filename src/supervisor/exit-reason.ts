// Words a process exit for a crash report.
import type { ExitInfo } from '../launch/index.js';

export function describeExit(info: ExitInfo): string {
  const how = info.signal
    ? `agent host process killed by ${info.signal}`
    : `agent host process exited with code ${info.code ?? 'unknown'}`;
  const said = info.stderrTail.split('\n').filter(Boolean).at(-1);
  return said ? `${how}: ${said}` : how;
}
