// Ending a child process we started: asked politely, then told, then killed.
import type { ChildProcess } from 'node:child_process';

/** Resolves once the child has exited: SIGTERM after `graceMs` (if not already asked), SIGKILL after twice that. */
export function stopProcess(child: ChildProcess, graceMs: number, askFirst = true): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const term = setTimeout(() => child.kill('SIGTERM'), askFirst ? graceMs : 0);
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs * 2);
    child.once('exit', () => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve();
    });
  });
}
