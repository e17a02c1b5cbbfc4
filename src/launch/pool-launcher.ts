// Shared backend (`isolation: shared`): many agents, each its own WASM instance, on a pool of
// worker threads (one per core). Each agent still looks like a host of its own to the supervisor:
// its frames go to its thread's rings, and frames back are routed by the agent they name (read
// with peekFrame, not decoded). A stop or a kill unloads that agent alone from its thread: its
// host has exited at once for the supervisor, and whatever its old instance still sends (the end
// of a batch it was running) is dropped until the thread says it is unloaded. Agent work cannot
// block a thread for long (fuel bounds it, in WebAssembly and in QuickJS alike), so a thread is
// ended only when Troupe's own host code fails there (a stuck host, a broken frame, its heap):
// then every agent on it exits, and all but the one to blame exit as bystanders (ExitInfo), which
// the supervisor starts again uncharged. Threads stay up while empty; close() ends them.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { decodeFrame, encodeFrame, isStopCommand, peekFrame } from '../protocol/index.js';
import type { ThreadChannelData } from './child-channel.js';
import { HostBase } from './host-base.js';
import { hostEnvironment } from './host-env.js';
import { RingChannel } from './ring-channel.js';
import { RunningAgent } from './running-agent.js';
import { SharedRing } from './shared-ring.js';
import { StderrTail } from './stderr-tail.js';
import type { ExitInfo, HostProcess, Launcher, SpawnOptions } from './types.js';

const RING_BYTES = 4 << 20;
/** A pool thread's V8 heap cap in MiB by default (agents' WASM memories are apart from it). */
const HEAP_MB = 1024;

export class SharedPoolLauncher implements Launcher {
  readonly backend = 'node' as const;
  readonly #size: number;
  readonly #threads: Array<PoolThread | undefined>;
  readonly #heapMb: number;
  #next = 0;

  /** `size` threads (default: one per core), each with a V8 heap of at most `heapMb` MiB. */
  constructor(size = availableParallelism(), { heapMb = HEAP_MB }: { heapMb?: number } = {}) {
    this.#size = Math.max(1, size);
    this.#threads = new Array(this.#size).fill(undefined);
    this.#heapMb = heapMb;
  }

  /** Ends every thread of the pool (the system has stopped). */
  close(): void {
    for (const thread of this.#threads) thread?.end('the pool was closed');
  }

  spawn(options: SpawnOptions): HostProcess {
    const index = this.#next++ % this.#size;
    let thread = this.#threads[index];
    if (!thread || thread.exited) {
      thread = new PoolThread(options, this.#heapMb, () => {
        if (this.#threads[index] === thread) this.#threads[index] = undefined;
      });
      this.#threads[index] = thread;
    }
    return thread.host(options.name, options.maxFrameBytes);
  }
}

class PoolThread {
  readonly #worker: Worker;
  readonly #channel: RingChannel;
  readonly #stderr = new StderrTail();
  readonly #hosts = new Map<string, PooledHost>();
  /** The agent the thread is running now, written by the thread (running-agent.ts). */
  readonly #running = new RunningAgent(new SharedArrayBuffer(RunningAgent.BYTES));
  #exited = false;
  #endedFor: string | undefined;
  /** The agent whose host was stuck, when that is why the thread was ended. */
  #endedBy: string | undefined;
  /** Agents unloaded by a Stop the thread has not yet answered, with how many are pending. */
  readonly #unloading = new Map<string, number>();

  constructor(options: SpawnOptions, heapMb: number, onExit: () => void) {
    const toHost = SharedRing.create(RING_BYTES).buffer;
    const toSupervisor = SharedRing.create(RING_BYTES).buffer;
    const workerData: ThreadChannelData = {
      troupeRings: { toHost, toSupervisor },
      pooled: true,
      running: this.#running.buffer as SharedArrayBuffer,
    };
    this.#worker = new Worker(options.entry, {
      workerData,
      env: hostEnvironment(process.env, { name: 'shared', extra: options.env }),
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
      name: 'troupe shared host',
    });
    this.#channel = new RingChannel(toHost, toSupervisor, this.#worker);
    this.#channel.listen((frame) => {
      const agent = peekFrame(frame)?.agent;
      if (agent !== undefined && this.#unloading.has(agent)) return this.#drain(agent, frame);
      const host = agent === undefined ? undefined : this.#hosts.get(agent);
      // A frame that names no agent of ours: a broken thread; every agent on it is ended.
      if (host) host.frame(frame);
      else if (!this.#exited) this.end(`sent a frame for no agent it hosts (${agent ?? 'unreadable'})`);
    });
    this.#worker.stderr.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    this.#worker.stdout.resume();
    this.#worker.on('error', (error) => this.#stderr.push(`${error.stack ?? error.message}\n`));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      this.#channel.close();
      onExit();
      const tail = this.#stderr.lines();
      // Ended by itself (not terminated by us): the agent it was running is to blame, no other.
      const culprit = this.#endedFor === undefined && code !== 0 ? this.#running.read() : undefined;
      // Every other agent on a thread that failed (ended by us, or by itself) is a bystander.
      const failed = this.#endedFor !== undefined || code !== 0;
      const blamed = this.#endedBy ?? culprit;
      for (const host of [...this.#hosts.values()]) {
        const why =
          this.#endedFor && this.#endedBy !== host.name
            ? `its shared thread was ended: ${this.#endedFor}`
            : culprit !== undefined && culprit !== host.name
              ? `its shared thread ended while running "${culprit}": ${tail}`
              : tail;
        const info = { code, signal: null, stderrTail: why, killed: host.killed, thread: true };
        host.exited({ ...info, culprit: culprit === host.name, bystander: failed && host.name !== blamed });
      }
      this.#hosts.clear();
    });
  }

  get exited(): boolean {
    return this.#exited;
  }

  host(name: string, maxFrameBytes = Number.POSITIVE_INFINITY): PooledHost {
    const host = new PooledHost(name, this, maxFrameBytes);
    this.#hosts.set(name, host);
    return host;
  }

  send(frame: Uint8Array): void {
    if (!this.#exited) this.#channel.send(frame);
  }

  /**
   * Unloads the agent from the thread: it no longer has a host here, and what its instance still
   * sends is dropped until the thread answers the Stop (commands are run in order, so the answer
   * comes after everything that instance sent, and before a new instance of it says anything).
   */
  unload(host: PooledHost, stop: Uint8Array): void {
    if (this.#hosts.get(host.name) === host) this.#hosts.delete(host.name);
    this.#unloading.set(host.name, (this.#unloading.get(host.name) ?? 0) + 1);
    this.send(stop);
  }

  #drain(agent: string, frame: Uint8Array): void {
    const decoded = decodeFrame(frame);
    if (!decoded.ok) {
      this.end(`sent a malformed frame for "${agent}": ${decoded.error}`);
      return;
    }
    if (!decoded.frame.events.some((event) => event.unloaded)) return;
    const pending = (this.#unloading.get(agent) ?? 1) - 1;
    if (pending > 0) this.#unloading.set(agent, pending);
    else this.#unloading.delete(agent);
  }

  /** Ends the thread and so every agent on it; `by`: the agent whose host was stuck, if one was. */
  end(why: string, by?: string): void {
    if (this.#endedFor === undefined) {
      this.#endedFor = why;
      this.#endedBy = by;
    }
    void this.#worker.terminate();
  }
}

class PooledHost extends HostBase {
  readonly pid = undefined;
  readonly name: string;
  readonly #thread: PoolThread;
  readonly #maxFrameBytes: number;
  killed = false;
  /** Its agent was unloaded from the thread (a Stop was sent): it sends nothing more. */
  #unloaded = false;

  constructor(name: string, thread: PoolThread, maxFrameBytes: number) {
    super();
    this.name = name;
    this.#thread = thread;
    this.#maxFrameBytes = maxFrameBytes;
  }

  frame(frame: Uint8Array): void {
    this.deliver(frame, frame.length, this.#maxFrameBytes);
  }

  exited(info: ExitInfo): void {
    this.exitReport.settle(info);
  }

  send(frame: Uint8Array): void {
    // Once unloaded (stopped or killed), its exit is on its way: nothing more goes to the thread,
    // where a command after the Stop would name an agent the thread no longer has.
    if (this.exitReport.settled || this.#unloaded) return;
    if (!isStopCommand(frame)) {
      this.#thread.send(frame);
      return;
    }
    // A stopped agent's host has exited, as a process would once it has no agent to serve.
    this.#unloaded = true;
    this.#thread.unload(this, frame);
    setImmediate(() =>
      this.exitReport.settle({ code: 0, signal: null, stderrTail: '', killed: false, thread: true }),
    );
  }

  /**
   * Ends this agent's instance alone; the thread and its other agents go on. A stuck host (the
   * watchdog, a broken frame) is Troupe's own code failing on that thread: nothing queued behind
   * it would run, so the thread ends.
   */
  kill(stuck = false): void {
    if (this.exitReport.settled || this.#unloaded) return;
    this.killed = true;
    this.#unloaded = true;
    if (stuck) {
      this.#thread.end(`"${this.name}" stopped answering`, this.name);
      return;
    }
    this.#thread.unload(this, encodeFrame({ commands: [{ agent: this.name, stop: { reason: 'killed' } }] }));
    setImmediate(() =>
      this.exitReport.settle({
        code: null,
        signal: null,
        stderrTail: '',
        killed: true,
        thread: true,
        pooled: true,
      }),
    );
  }
}
