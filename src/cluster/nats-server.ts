// A nats-server of our own for development and tests (`troupe cluster` without --nats): on
// 127.0.0.1 only, a port the kernel picks, a random token every client must present. Ended with
// the cluster, also when it fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { stopProcess } from './stop-process.js';

export interface LocalNats {
  url: string;
  token: string;
  pid: number | undefined;
  stop(): Promise<void>;
  /** Ends it at once (from an exit handler, where nothing can be awaited). */
  kill(): void;
}

export const NATS_SERVER = process.env.TROUPE_NATS_SERVER ?? 'nats-server';

export async function startLocalNats(options: { port?: number; token?: string } = {}): Promise<LocalNats> {
  const token = options.token ?? nanoid(32);
  // The token goes in a file only this user can read, not on the command line (where `ps` shows it).
  const dir = mkdtempSync(join(tmpdir(), 'troupe-nats-'));
  const config = join(dir, 'nats.conf');
  writeFileSync(config, `authorization { token: "${token}" }\n`, { mode: 0o600 });
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(options.port ?? -1), '-c', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const url = await new Promise<string>((resolve, reject) => {
    let log = '';
    const fail = (why: string) =>
      reject(new Error(`nats-server did not start: ${why}${log ? `\n${log.trim()}` : ''}`));
    child.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'ENOENT'
          ? `"${NATS_SERVER}" is not installed (apt-get install nats-server)`
          : error.message,
      ),
    );
    // After the promise settled, a later exit changes nothing here.
    child.once('exit', (code) => fail(`it exited with code ${code}`));
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk;
      const match = /Listening for client connections on ([\d.]+):(\d+)/.exec(log);
      if (match) resolve(`nats://${match[1]}:${match[2]}`);
    });
  });
  return {
    url,
    token,
    pid: child.pid,
    stop: () => stopProcess(child, 2500, false),
    kill: () => child.kill('SIGKILL'),
  };
}
