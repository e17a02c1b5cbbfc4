// Runs the real `troupe` command as a child process and reads what it prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { expect } from 'vitest';
import { TROUPE_BIN } from './paths.js';

export interface CliRun {
  child: ChildProcess;
  lines: string[];
  /** Resolves when a printed line matches. */
  waitFor(pattern: RegExp): Promise<string>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const running = new Set<ChildProcess>();

/**
 * With `ownGroup`, the command leads its own process group, as in a terminal (for Ctrl+C tests);
 * with `stdin`, the test can write to its standard input; `cwd` is the folder it runs in.
 */
export function troupe(
  args: string[],
  options: { ownGroup?: boolean; stdin?: boolean; env?: Record<string, string>; cwd?: string } = {},
): CliRun {
  const child = spawn(process.execPath, [TROUPE_BIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: options.ownGroup ?? false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  running.add(child);
  // A write the test makes as the command ends meets a closed pipe (EPIPE): the command has ended
  // and its exit is what the test checks, so the write is moot rather than an unhandled error.
  child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) resolve(seen);
      else waiters.push({ pattern, resolve });
    });
  return { child, lines, waitFor, exit };
}

export function killAllCli(): void {
  for (const child of running) {
    child.kill('SIGKILL');
    if (child.spawnargs && child.pid) killGroup(child.pid);
  }
  running.clear();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (up to 20 s) until none of these processes is left: a test's end leaves no orphans. */
export async function expectAllEnded(pids: Iterable<number | undefined>): Promise<void> {
  const all = [...pids].filter((pid): pid is number => pid !== undefined);
  await expect.poll(() => all.filter((pid) => isAlive(pid)), { timeout: 20_000 }).toEqual([]);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Not a group leader, or already gone.
  }
}

/** The objects of a `--json` output, one per line. */
export function parseJsonLines(stdout: string): Array<Record<string, unknown> & { type: string }> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { type: string });
}
