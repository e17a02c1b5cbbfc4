// The launcher contract: the only place that knows which process backend runs.

export type Backend = 'node' | 'electron';

export interface SpawnOptions {
  /** Absolute path of the built process entry (agent host or GPU host). */
  entry: string;
  /** A human name for the process: the agent it serves, or "gpu-host". */
  name: string;
  /** Extra environment for the child, on top of the parent's. */
  env?: Record<string, string>;
}

export interface ExitInfo {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: string | null;
  /** The last lines the process wrote to stderr, to explain a crash. */
  stderrTail: string;
  /** True when the exit followed our own kill(). */
  killed: boolean;
}

/** One running child process. Frames are copied across the boundary (no transfer lists). */
export interface HostProcess {
  readonly pid: number | undefined;
  send(frame: Uint8Array): void;
  onFrame(listener: (frame: unknown) => void): void;
  /** Called exactly once, whether the process exited, was killed or never started. */
  onExit(listener: (info: ExitInfo) => void): void;
  /** Ends the process at once (SIGKILL on the Node backend). */
  kill(): void;
}

export interface Launcher {
  readonly backend: Backend;
  spawn(options: SpawnOptions): HostProcess;
}
