// Words a process exit for a crash report.
import type { ExitInfo } from '../../launch/index.js';

export function describeExit(info: ExitInfo, host = 'agent host'): string {
  const how = info.pooled
    ? `${host} instance ${info.killed ? 'killed' : 'ended'} on its shared thread`
    : info.thread
      ? info.killed
        ? `${host} thread terminated`
        : `${host} thread exited with code ${info.code ?? 'unknown'}`
      : info.signal
        ? `${host} process killed by ${info.signal}`
        : `${host} process exited with code ${info.code ?? 'unknown'}`;
  const lines = info.stderrTail.split('\n').filter(Boolean);
  // Node prints the source line and a caret before the error itself; the error line is the useful one.
  const said = lines.findLast((line) => /\b\w*Error\b|error:/i.test(line)) ?? lines.at(-1);
  return said ? `${how}: ${said.trim()}` : how;
}
