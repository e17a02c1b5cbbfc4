// A nats-server of our own for development and tests (`troupe cluster` without --nats): on
// 127.0.0.1 only, a port the kernel picks, a random token every client must present (or the
// users an authorization block admits). Ended with the process that started it, also when that
// process is killed; its configuration, which holds the token, is deleted once the server has
// read it, and its folder when it exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';

export interface LocalNats {
  url: string;
  /** The token clients present (none when the server takes an nkey instead). */
  token: string | undefined;
  pid: number | undefined;
  stop(): Promise<void>;
  /** Ends it at once (from an exit handler, where nothing can be awaited). */
  kill(): void;
  /** Resolves once the server has exited (its port is free again). */
  exited: Promise<void>;
}

export const NATS_SERVER = process.env.TROUPE_NATS_SERVER ?? 'nats-server';

/**
 * nats-server runs under a small shell that ends it when the pipe to the shell's standard input
 * closes: when this process ends, however it ends (SIGKILL included, where no handler runs). The
 * shell exits with the server, with its exit code, and says the server's process id first.
 */
const GUARD = [
  'exec 3<&0',
  '"$0" "$@" 3<&- </dev/null &',
  'n=$!',
  'echo "troupe-nats-pid $n" >&2',
  '(read _ <&3; kill $n 2>/dev/null) &',
  'r=$!',
  'wait $n',
  'code=$?',
  'kill $r 2>/dev/null',
  'rm -rf "$TROUPE_NATS_DIR"',
  'exit $code',
].join('\n');

export interface LocalNatsOptions {
  port?: number;
  token?: string;
  /** The public key of the one user the server admits, instead of a token. */
  nkey?: string;
  /** A whole `authorization { … }` block (permissions.ts), instead of a token. */
  authorization?: string;
  /**
   * With JetStream, its store in a folder that goes with the server, or in `storeDir` (kept, so a
   * server started again on it has the streams of the last).
   */
  jetstream?: boolean | { storeDir: string };
}

export async function startLocalNats(options: LocalNatsOptions = {}): Promise<LocalNats> {
  if (options.nkey !== undefined && !/^U[A-Z2-7]{55}$/.test(options.nkey))
    throw new Error(`"${options.nkey}" is not the public key of a user nkey (U…, 56 characters)`);
  const token = options.nkey || options.authorization ? undefined : (options.token ?? nanoid(32));
  // The token goes in a file only this user can read, not on the command line (where `ps` shows it).
  const dir = mkdtempSync(join(tmpdir(), 'troupe-nats-'));
  const config = join(dir, 'nats.conf');
  const authorization =
    options.authorization ??
    `authorization { ${token ? `token: "${token}"` : `users: [ { nkey: "${options.nkey}" } ]`} }\n`;
  writeFileSync(config, authorization, { mode: 0o600 });
  const args = ['-a', '127.0.0.1', '-p', String(options.port ?? -1), '-c', config];
  const { jetstream } = options;
  if (jetstream) args.push('-js', '-sd', jetstream === true ? join(dir, 'jetstream') : jetstream.storeDir);
  const child = spawn('/bin/sh', ['-c', GUARD, NATS_SERVER, ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, TROUPE_NATS_DIR: dir },
  });
  // The guard shell exits once the server has (see GUARD).
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    }),
  );
  const { url, pid } = await listening(child, config);
  return running(child, { url, token, pid, exited });
}

/**
 * The server's address once it listens (and the server's own pid, which the guard shell says),
 * or why it did not start. The config file, token and all, is deleted once read.
 */
function listening(child: ChildProcess, config: string): Promise<{ url: string; pid: number | undefined }> {
  let pid: number | undefined;
  return new Promise((resolve, reject) => {
    let log = '';
    const fail = (why: string) => {
      const said = log.replace(/troupe-nats-pid \d+\n/, '').trim();
      reject(new Error(`nats-server did not start: ${why}${said ? `\n${said}` : ''}`));
    };
    child.once('error', (error) => fail(error.message));
    // After the promise settled, a later exit changes nothing here.
    child.once('exit', (code) =>
      fail(
        code === 127
          ? `"${NATS_SERVER}" is not installed (apt-get install nats-server)`
          : `it exited with code ${code}`,
      ),
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk;
      pid ??= Number(/troupe-nats-pid (\d+)/.exec(log)?.[1]) || undefined;
      const match = /Listening for client connections on ([\d.]+):(\d+)/.exec(log);
      if (!match) return;
      // Read by now: the token in it is not left on disk while the server runs.
      rmSync(config, { force: true });
      resolve({ url: `nats://${match[1]}:${match[2]}`, pid });
    });
  });
}

/** The running server: stopped by signals to its own pid (the guard shell ends with it). */
function running(
  child: ChildProcess,
  server: { url: string; token: string | undefined; pid: number | undefined; exited: Promise<void> },
): LocalNats {
  const { pid } = server;
  const signal = (name: NodeJS.Signals) => {
    try {
      if (pid !== undefined) process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  return {
    ...server,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      signal('SIGTERM');
      const kill = setTimeout(() => signal('SIGKILL'), 2500);
      await exited;
      clearTimeout(kill);
    },
    kill: () => {
      signal('SIGKILL');
      child.stdin?.destroy();
    },
  };
}

/** How long a server that exited is tried again before the cluster gives up on it. */
export const NATS_RESTART_MS = 4000;

export interface NatsSupervision {
  /** Whether a server that exited is still wanted (not when its exit is part of a stop: Ctrl+C). */
  wanted?(): boolean;
  /** The server exited and runs again on the same port (`pid`: the new process). */
  restarted(pid: number | undefined): void;
  /** It exited and could not be started again within NATS_RESTART_MS: the cluster cannot go on. */
  failed(reason: string): void;
}

/**
 * A local server that is started again, on the same port and with the same configuration (its
 * users and keys), whenever it exits before `stop` or `kill`: the clients reconnect by themselves
 * and the links send again what was lost (reliable-link.ts). `pid` is the running server's.
 */
export async function startSupervisedNats(
  options: LocalNatsOptions,
  supervision: NatsSupervision,
): Promise<LocalNats> {
  let current = await startLocalNats(options);
  const port = Number(new URL(current.url).port);
  let over = false;
  let ended: () => void = () => {};
  const exited = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const restart = async () => {
    const deadline = performance.now() + NATS_RESTART_MS;
    let why = '';
    for (let wait = 100; !over && performance.now() < deadline; wait *= 2) {
      try {
        const next = await startLocalNats({
          ...options,
          port,
          ...(current.token ? { token: current.token } : {}),
        });
        if (over) {
          next.kill();
          return;
        }
        current = next;
        watch(next);
        supervision.restarted(next.pid);
        return;
      } catch (error) {
        why = (error as Error).message;
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, deadline - performance.now())));
      }
    }
    if (over) return;
    over = true;
    ended();
    supervision.failed(
      `the cluster's nats-server exited and could not be started again on port ${port} within ${NATS_RESTART_MS} ms: ${why}`,
    );
  };
  const watch = (server: LocalNats) => {
    void server.exited.then(() => {
      if (!over && supervision.wanted?.() === false) over = true;
      if (over) ended();
      else if (server === current) void restart();
    });
  };
  watch(current);
  return {
    url: current.url,
    token: current.token,
    get pid() {
      return current.pid;
    },
    exited,
    stop: async () => {
      over = true;
      await current.stop();
      ended();
    },
    kill: () => {
      over = true;
      current.kill();
    },
  };
}
