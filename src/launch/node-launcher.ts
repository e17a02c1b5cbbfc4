// Node backend: one child_process.fork per host, frames over the IPC channel.
import { type ChildProcess, fork } from 'node:child_process';
import { ExitReport } from './exit-report.js';
import { StderrTail } from './stderr-tail.js';
import type { ExitInfo, HostProcess, Launcher, SpawnOptions } from './types.js';

export class NodeLauncher implements Launcher {
  readonly backend = 'node' as const;

  spawn(options: SpawnOptions): HostProcess {
    const child = fork(options.entry, [], {
      // "advanced" sends Uint8Arrays as bytes; the default JSON mode would inflate them tenfold.
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...options.env, TROUPE_HOST_NAME: options.name },
      execArgv: [],
    });
    return new NodeHostProcess(child);
  }
}

class NodeHostProcess implements HostProcess {
  readonly #child: ChildProcess;
  readonly #stderr = new StderrTail();
  readonly #exit = new ExitReport();
  #killed = false;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    child.on('error', (error) => {
      this.#stderr.push(`${error.message}\n`);
      // A child that never started emits 'error' and no 'exit'.
      if (child.pid === undefined) this.#finish(null, null);
    });
    child.on('exit', (code, signal) => {
      // stderr may still hold the crash message; 'close' fires once the pipes are drained.
      child.once('close', () => this.#finish(code, signal));
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  send(frame: Uint8Array): void {
    if (!this.#child.connected) return;
    this.#child.send(frame, (error) => {
      // The channel closed under us: the exit event will report the process; nothing to add.
      if (error && this.#child.connected) this.#stderr.push(`send failed: ${error.message}\n`);
    });
  }

  onFrame(listener: (frame: unknown) => void): void {
    this.#child.on('message', listener);
  }

  onExit(listener: (info: ExitInfo) => void): void {
    this.#exit.listen(listener);
  }

  kill(): void {
    this.#killed = true;
    this.#child.kill('SIGKILL');
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exit.settle({ code, signal, stderrTail: this.#stderr.lines(), killed: this.#killed });
  }
}
