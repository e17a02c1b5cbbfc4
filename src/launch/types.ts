// The launcher contract: the only place that knows which process backend runs.

export type Backend = 'node' | 'electron';

export interface SpawnOptions {
  /** Absolute path of the built process entry (agent host or GPU host). */
  entry: string;
  /** A human name for the process: the agent it serves, or "gpu-host". */
  name: string;
  /**
   * Environment for the child. The parent's own is not passed on, but for a short allow-list
   * (host-env.ts); the GPU host's list adds library paths and device selection.
   */
  env?: Record<string, string>;
  /** The GPU host (wider environment allow-list, native addons, worker threads). */
  gpu?: boolean;
  /** The tool host (it starts MCP servers: child processes; their default environment). */
  tools?: boolean;
  /**
   * Where the Node permission model is available: the only paths the child may read. Unset: the
   * child runs without the permission model.
   */
  readPaths?: readonly string[];
  /** Largest frame the child may send, checked from its length prefix before it is buffered. */
  maxFrameBytes?: number;
}

export interface ExitInfo {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: string | null;
  /** The last lines the process wrote to stderr, to explain a crash. */
  stderrTail: string;
  /** True when the exit followed our own kill(). */
  killed: boolean;
  /** The host was a worker thread (thread-launcher.ts), not a process. */
  thread?: boolean;
  /** The host was one agent on a thread of the shared pool, whose other agents went on. */
  pooled?: boolean;
  /**
   * The host ended for another agent's fault, or for Troupe's own failure on a thread it shared
   * (a pool thread ended by the watchdog, past its heap limit while running another agent): the
   * agent is started again and charged nothing.
   */
  bystander?: boolean;
  /**
   * The host ended by itself while running this agent's code (a worker thread past its heap
   * limit, say), not by a kill: what the agent was handling is to blame, as after a stall.
   */
  culprit?: boolean;
}

/** One running child process. Frames are copied across the boundary (no transfer lists). */
export interface HostProcess {
  readonly pid: number | undefined;
  send(frame: Uint8Array): void;
  onFrame(listener: (frame: unknown) => void): void;
  /**
   * Called when the child announces a frame above SpawnOptions.maxFrameBytes: nothing of it was
   * buffered and no later frame is read; the caller ends the child.
   */
  onOversize(listener: (bytes: number, limit: number) => void): void;
  /** Called exactly once, whether the process exited, was killed or never started. */
  onExit(listener: (info: ExitInfo) => void): void;
  /**
   * Ends the process at once (SIGKILL on the Node backend). A host sharing its thread with other
   * agents ends its own agent alone, unless `stuck` says the host stopped answering or broke the
   * protocol: then its whole thread ends.
   */
  kill(stuck?: boolean): void;
}

export interface Launcher {
  readonly backend: Backend;
  spawn(options: SpawnOptions): HostProcess;
  /** Ends what the launcher keeps running between hosts (a thread pool), once the system stopped. */
  close?(): void;
}
