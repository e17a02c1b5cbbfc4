// Node backend: one child process per host, frames over a pipe of our own (fd 3), length-prefixed
// so an oversized frame is refused from its prefix; an allow-listed environment; and, where this
// Node has it, the permission model: the child reads only the paths it is given, and (agent
// hosts) may not start processes, threads or native addons, nor eval code.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { FrameReader, writeFrame } from './frame-stream.js';
import { HostBase } from './host-base.js';
import { hostEnvironment } from './host-env.js';
import { StderrTail } from './stderr-tail.js';
import type { HostProcess, Launcher, SpawnOptions } from './types.js';

/** The child's end of the frame pipe (child-channel.ts opens it). */
export const CHANNEL_FD = 3;
/** Frames a host may send when the caller sets no limit. */
const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;

export class NodeLauncher implements Launcher {
  readonly backend = 'node' as const;

  spawn(options: SpawnOptions): HostProcess {
    const child = spawn(process.execPath, [...nodeArgs(options), options.entry], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: {
        ...hostEnvironment(process.env, {
          name: options.name,
          extra: options.env,
          gpu: options.gpu,
          tools: options.tools,
        }),
        TROUPE_CHANNEL_FD: String(CHANNEL_FD),
      },
    });
    return new NodeHostProcess(child, options.maxFrameBytes ?? DEFAULT_MAX_FRAME);
  }
}

/**
 * Node's permission flags for the child, when this Node has the permission model: it may read its
 * own code (the package its entry is in, and the node_modules folders it resolves from) and the
 * paths it is given.
 */
export function nodeArgs(options: Pick<SpawnOptions, 'entry' | 'readPaths' | 'gpu' | 'tools'>): string[] {
  if (!options.readPaths) return [];
  const flag = permissionFlag();
  if (!flag) return [];
  const readable = [...codePaths(options.entry), ...options.readPaths];
  return [
    flag,
    '--disable-warning=ExperimentalWarning',
    ...readable.map((path) => `--allow-fs-read=${path}`),
    ...(options.gpu
      ? ['--allow-worker', '--allow-addons']
      : // The MCP SDK compiles JSON Schemas to functions (ajv): the tool host may generate code.
        // Allowing child processes is what it is for: Node's warning about it is not news.
        options.tools
        ? ['--allow-child-process', '--disable-warning=SecurityWarning']
        : ['--disallow-code-generation-from-strings']),
  ];
}

/** The entry's package folder and every node_modules folder above it. */
function codePaths(entry: string): string[] {
  const paths: string[] = [];
  let dir = dirname(realpathSync(entry));
  let packageRoot: string | undefined;
  for (;;) {
    if (!packageRoot && existsSync(join(dir, 'package.json'))) packageRoot = dir;
    const modules = join(dir, 'node_modules');
    if (existsSync(modules)) paths.push(modules);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return [packageRoot ?? dirname(entry), ...paths];
}

/** `--permission` from Node 22.13 (stable), `--experimental-permission` from 20.0; none before. */
function permissionFlag(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 13)) return '--permission';
  return major >= 20 ? '--experimental-permission' : undefined;
}

class NodeHostProcess extends HostBase {
  readonly #child: ChildProcess;
  readonly #pipe: Socket;
  readonly #reader: FrameReader;
  readonly #stderr = new StderrTail();
  #killed = false;

  constructor(child: ChildProcess, maxFrameBytes: number) {
    super();
    this.#child = child;
    this.#pipe = child.stdio[CHANNEL_FD] as Socket;
    this.#reader = new FrameReader(maxFrameBytes, {
      // The reader has checked the size from the frame's prefix already.
      frame: (frame) => this.deliver(frame, frame.length, Number.POSITIVE_INFINITY),
      oversize: (bytes, limit) => {
        // Stop reading at once: what the child sends after it is not buffered either.
        this.#pipe.pause();
        this.oversized(bytes, limit);
      },
    });
    this.#pipe.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    // The child's end closing is its exit's business; a write to a dead child is not ours.
    this.#pipe.on('error', () => {});
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
    if (!this.exitReport.settled && !this.#pipe.destroyed) writeFrame(this.#pipe, frame);
  }

  kill(): void {
    this.#killed = true;
    this.#child.kill('SIGKILL');
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): void {
    this.#reader.stop();
    this.exitReport.settle({ code, signal, stderrTail: this.#stderr.lines(), killed: this.#killed });
  }
}
