// The processes `troupe cluster` starts on its own machine: its nats-server (supervised, with an
// nkey per party) and one `troupe node` per name, each started again when it dies, at once if it
// had joined, else after a backoff (a node that died again before it rejoined stayed down for
// good before). It knows which nodes are down, for the events and the run's end.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ClusterKeys, withoutCredentials } from './cluster-keys.js';
import type { Membership } from './membership.js';
import { type LocalNats, startSupervisedNats } from './nats-server.js';
import { stopProcess } from './stop-process.js';

const TROUPE_BIN = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));
/** A node that died before it rejoined is started again after this, doubling each time up to 5 s. */
const NODE_RESTART_MS = 250;
const NODE_RESTART_MAX_MS = 5000;

/** How long to wait before starting a node again after its `failures`-th death before joining. */
export function nodeRestartDelay(failures: number): number {
  return failures === 0 ? 0 : Math.min(NODE_RESTART_MS * 2 ** (failures - 1), NODE_RESTART_MAX_MS);
}

/** Reports what happened: a JSON line's fields, and the same as a sentence for a terminal. */
export type Say = (line: object, text: string) => void;

/**
 * The cluster's own nats-server, on the parties' keys: one that dies is started again on its
 * port; one that cannot be ends the run at once (`gone`), the journal as it stands.
 */
export function startClusterNats(
  keys: ClusterKeys,
  options: { say: Say; stopping: () => boolean; gone: (reason: string) => void },
): Promise<LocalNats> {
  const { say, stopping, gone } = options;
  return startSupervisedNats(
    { authorization: keys.authorization },
    {
      wanted: () => !stopping(),
      restarted: (pid) =>
        say(
          { type: 'nats.restarted', pid },
          `the cluster's nats-server exited; started again on the same port (process ${pid})`,
        ),
      failed: (reason) => {
        if (stopping()) return;
        say({ type: 'nats.failed', reason }, `troupe cluster: ${reason}; stopping`);
        gone(reason);
      },
    },
  );
}

export class LocalNodes {
  readonly #file: string;
  readonly #say: Say;
  readonly #stopping: () => boolean;
  /** The processes, by the node's place in the list. */
  readonly #processes: ChildProcess[] = [];
  /** The nodes down now, and why; how often each died since it last joined; restarts waiting. */
  readonly #down = new Map<string, string>();
  readonly #deathsBeforeJoining = new Map<string, number>();
  readonly #restarts = new Set<NodeJS.Timeout>();

  constructor(file: string, options: { say: Say; stopping: () => boolean }) {
    this.#file = file;
    this.#say = options.say;
    this.#stopping = options.stopping;
  }

  /** The nodes' process ids, in the order they were started. */
  get pids(): Array<number | undefined> {
    return this.#processes.map((node) => node.pid);
  }

  /** Starts one node per name on `url`, each with its own seed, losing it to `members` when it dies. */
  start(names: readonly string[], url: string, keys: ClusterKeys | undefined, members: Membership): void {
    for (const [i, name] of names.entries()) this.#start(name, i, url, keys, members);
  }

  /** The node (a process under its name) joined: it is up, and its backoff starts over. */
  joined(node: string): void {
    this.#down.delete(node);
    this.#deathsBeforeJoining.delete(node);
  }

  /** The nodes of `names` down now (died, or not live in `members`), with why when known. */
  downOf(names: readonly string[], members: Membership | undefined): Array<{ node: string; why?: string }> {
    const down = new Set([...this.#down.keys(), ...names.filter((name) => !members?.live.has(name))]);
    return [...down]
      .sort()
      .map((node) => ({ node, ...(this.#down.has(node) ? { why: this.#down.get(node) } : {}) }));
  }

  /** Kills every node at once (from an exit handler, where nothing can be awaited). */
  kill(): void {
    for (const node of this.#processes) node.kill('SIGKILL');
  }

  /** No more restarts; each node is asked (it was told on NATS), then terminated, then killed. */
  async stop(): Promise<void> {
    for (const timer of this.#restarts) clearTimeout(timer);
    await Promise.all(this.#processes.map((node) => stopProcess(node, 3000)));
  }

  #start(name: string, i: number, url: string, keys: ClusterKeys | undefined, members: Membership): void {
    const node = spawn(
      process.execPath,
      [TROUPE_BIN, 'node', this.#file, '--name', name, '--nats', url, '--json'],
      {
        // Its seed goes by the environment, never argv (where `ps` shows it). A node started here
        // ends when its standard input closes: when this process is gone, however it went.
        env: {
          ...withoutCredentials(process.env),
          ...(keys ? { TROUPE_NATS_SEED: keys.seed({ role: 'node', name }) } : {}),
          TROUPE_NODE_STDIN_PARENT: '1',
        },
        stdio: ['pipe', 'ignore', 'inherit'],
      },
    );
    this.#processes[i] = node;
    node.once('exit', (code, signal) => {
      const joined = node.pid !== undefined && members.pidOf(name) === node.pid;
      const why = `its process exited (${signal ?? `code ${code}`})`;
      // Its hosts are gone with it, also while stopping (the run waits for them otherwise).
      members.lose(name, why);
      if (this.#stopping()) return;
      this.#down.set(name, why);
      const failures = joined ? 0 : (this.#deathsBeforeJoining.get(name) ?? 0) + 1;
      this.#deathsBeforeJoining.set(name, failures);
      const wait = nodeRestartDelay(failures);
      if (!joined)
        this.#say(
          { type: 'node.down', node: name, reason: why, retryMs: wait },
          `node "${name}" died before it rejoined (${why}); started again in ${wait} ms`,
        );
      const timer = setTimeout(() => {
        this.#restarts.delete(timer);
        if (this.#stopping()) return;
        this.#start(name, i, url, keys, members);
        this.#say(
          { type: 'node.restarted', node: name, pid: this.#processes[i]?.pid },
          `node "${name}" started again; it rejoins when it beats`,
        );
      }, wait);
      this.#restarts.add(timer);
    });
  }
}
