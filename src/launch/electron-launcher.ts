// Electron backend: one utilityProcess per host. Imported only by the Electron app entry, which
// passes Electron's `utilityProcess` in, so this file never loads `electron` by itself.
import type { UtilityProcess } from 'electron';
import { HostBase } from './host-base.js';
import { hostEnvironment } from './host-env.js';
import { StderrTail } from './stderr-tail.js';
import type { HostProcess, Launcher, SpawnOptions } from './types.js';

export interface UtilityProcessModule {
  fork: typeof import('electron').utilityProcess.fork;
}

export class ElectronLauncher implements Launcher {
  readonly backend = 'electron' as const;
  readonly #utilityProcess: UtilityProcessModule;

  constructor(utilityProcess: UtilityProcessModule) {
    this.#utilityProcess = utilityProcess;
  }

  spawn(options: SpawnOptions): HostProcess {
    const child = this.#utilityProcess.fork(options.entry, [], {
      serviceName: `troupe ${options.name}`,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: hostEnvironment(process.env, {
        name: options.name,
        extra: options.env,
        gpu: options.gpu,
        tools: options.tools,
      }),
    });
    return new ElectronHostProcess(child, options.maxFrameBytes);
  }
}

class ElectronHostProcess extends HostBase {
  readonly #child: UtilityProcess;
  readonly #stderr = new StderrTail();
  #killed = false;

  constructor(child: UtilityProcess, maxFrameBytes = Number.POSITIVE_INFINITY) {
    super();
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    // Electron has buffered a message by the time we see it (docs/architecture.md): the limit is
    // checked on arrival, and an oversized frame is dropped, not passed on.
    child.on('message', (frame: unknown) =>
      this.deliver(frame, frame instanceof Uint8Array ? frame.byteLength : 0, maxFrameBytes),
    );
    // kill() makes Electron report exit code 0, so `killed` is what tells a kill from a clean exit.
    child.on('exit', (code) => this.#finish(code));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  send(frame: Uint8Array): void {
    if (this.exitReport.settled) return;
    // postMessage has no transfer list on utilityProcess; the bytes are copied.
    this.#child.postMessage(frame);
  }

  kill(): void {
    this.#killed = true;
    this.#child.kill();
  }

  #finish(code: number): void {
    this.exitReport.settle({ code, signal: null, stderrTail: this.#stderr.lines(), killed: this.#killed });
  }
}
