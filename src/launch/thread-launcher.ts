// Thread backend (`isolation: thread`): each host is a worker thread of the supervisor's process,
// running the same agent host entry; frames travel through two SharedArrayBuffer rings (one each
// way, docs/shared-memory.md), not through structured clones. A worker has its own heap limit, an
// allow-listed environment and no pid: it is ended with terminate(), never with a signal.
import { Worker } from 'node:worker_threads';
import type { ThreadChannelData } from './child-channel.js';
import { HostBase } from './host-base.js';
import { hostEnvironment } from './host-env.js';
import { RingChannel } from './ring-channel.js';
import { SharedRing } from './shared-ring.js';
import { StderrTail } from './stderr-tail.js';
import type { HostProcess, Launcher, SpawnOptions } from './types.js';

/** Bytes of each ring; a larger frame goes as a message (ring-channel.ts). */
const RING_BYTES = 1 << 20;
/** The worker's V8 heap cap in MiB (its agents' WASM memories are apart from it). */
const HEAP_MB = 256;

export class ThreadLauncher implements Launcher {
  readonly backend = 'node' as const;
  readonly #heapMb: number;

  /** Each host thread gets a V8 heap of at most `heapMb` MiB. */
  constructor({ heapMb = HEAP_MB }: { heapMb?: number } = {}) {
    this.#heapMb = heapMb;
  }

  spawn(options: SpawnOptions): HostProcess {
    const toHost = SharedRing.create(RING_BYTES).buffer;
    const toSupervisor = SharedRing.create(RING_BYTES).buffer;
    const workerData: ThreadChannelData = { troupeRings: { toHost, toSupervisor } };
    const worker = new Worker(options.entry, {
      workerData,
      env: hostEnvironment(process.env, { name: options.name, extra: options.env, gpu: options.gpu }),
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
      name: `troupe ${options.name}`,
    });
    return new ThreadHost(worker, new RingChannel(toHost, toSupervisor, worker), options.maxFrameBytes);
  }
}

class ThreadHost extends HostBase {
  readonly pid = undefined;
  readonly #worker: Worker;
  readonly #channel: RingChannel;
  readonly #stderr = new StderrTail();
  #killed = false;

  constructor(worker: Worker, channel: RingChannel, maxFrameBytes = Number.POSITIVE_INFINITY) {
    super();
    this.#worker = worker;
    this.#channel = channel;
    channel.listen((frame) => this.deliver(frame, frame.length, maxFrameBytes));
    worker.stderr.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    worker.stdout.resume();
    worker.on('error', (error) => this.#stderr.push(`${error.stack ?? error.message}\n`));
    worker.on('exit', (code) => {
      channel.close();
      const stderrTail = this.#stderr.lines();
      // A worker ends only by our terminate() or by itself, and then its one agent was running.
      const culprit = !this.#killed && code !== 0;
      this.exitReport.settle({ code, signal: null, stderrTail, killed: this.#killed, thread: true, culprit });
    });
  }

  send(frame: Uint8Array): void {
    if (!this.exitReport.settled) this.#channel.send(frame);
  }

  kill(): void {
    this.#killed = true;
    void this.#worker.terminate();
  }
}
