// A nats-server of our own for development and tests (`troupe cluster` without --nats): on
// 127.0.0.1 only, a port the kernel picks, a random token every client must present. Ended with
// the process that started it, also when that process is killed.
import { spawn } from 'node:child_process';
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
  'exit $code',
].join('\n');

/**
 * `nkey`: the public key of the one user the server admits, instead of a token. `jetstream`: with
 * JetStream, its store in a folder that goes with the server, or in `storeDir` (kept, so a server
 * started again on it has the streams of the last).
 */
export async function startLocalNats(
  options: { port?: number; token?: string; nkey?: string; jetstream?: boolean | { storeDir: string } } = {},
): Promise<LocalNats> {
  if (options.nkey !== undefined && !/^U[A-Z2-7]{55}$/.test(options.nkey))
    throw new Error(`"${options.nkey}" is not the public key of a user nkey (U…, 56 characters)`);
  const token = options.nkey ? undefined : (options.token ?? nanoid(32));
  // The token goes in a file only this user can read, not on the command line (where `ps` shows it).
  const dir = mkdtempSync(join(tmpdir(), 'troupe-nats-'));
  const config = join(dir, 'nats.conf');
  const authorization = token ? `token: "${token}"` : `users: [ { nkey: "${options.nkey}" } ]`;
  writeFileSync(config, `authorization { ${authorization} }\n`, { mode: 0o600 });
  const args = ['-a', '127.0.0.1', '-p', String(options.port ?? -1), '-c', config];
  const { jetstream } = options;
  if (jetstream) args.push('-js', '-sd', jetstream === true ? join(dir, 'jetstream') : jetstream.storeDir);
  const child = spawn('/bin/sh', ['-c', GUARD, NATS_SERVER, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  // The guard shell exits once the server has (see GUARD).
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    }),
  );
  let pid: number | undefined;
  const url = await new Promise<string>((resolve, reject) => {
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
      if (match) resolve(`nats://${match[1]}:${match[2]}`);
    });
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      if (pid !== undefined) process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  return {
    url,
    token,
    pid,
    exited,
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
