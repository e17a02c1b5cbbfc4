// Trust between the parties of a cluster (issue 26): each node and the coordinator connect as a
// NATS user of their own, allowed only their own subjects, so one node's credentials cannot act
// as another node or as the coordinator; the server refuses it, and the run goes on undisturbed.
// Real nats-server and node processes; every process a test starts is ended by it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClusterIdentity,
  clusterKeys,
  connectNats,
  inboxPrefix,
  type NatsConnection,
  startLocalNats,
} from '../src/cluster/index.js';
import { killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { longClusterSystem } from './helpers/long-cluster.js';
import { ROOT } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

const CLUSTER = join(ROOT, 'examples/cluster/cluster.system.yaml');
const SYSTEM = 'hello-cluster';
const NODES = ['east', 'south', 'west'];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  killAllCli();
  removeTempDirs();
});

const traceOf = (stdout: string) => parseJsonLines(stdout).find((line) => line.type === 'run.end')?.trace;
const node = (name: string): ClusterIdentity => ({ role: 'node', name });
/** Credentials of the caller's environment must not reach the processes under test. */
const NO_CREDENTIALS = { TROUPE_NATS_TOKEN: '', TROUPE_NATS_NKEY: '', TROUPE_NATS_CREDS: '' };

/** The server's refusals a connection hears, as their messages. */
function refusals(nc: NatsConnection): string[] {
  const heard: string[] = [];
  void (async () => {
    for await (const status of nc.status())
      if (status.type === 'error' && /Permissions Violation/.test(String(status.error)))
        heard.push(String(status.error));
  })();
  return heard;
}

describe('cluster identities', () => {
  it("one node's credentials cannot act as another node or the coordinator; the run goes on", async () => {
    const keys = clusterKeys(SYSTEM, NODES);
    const nats = await startLocalNats({ authorization: keys.authorization });
    cleanups.push(() => nats.stop());
    const seedEnv = (identity: ClusterIdentity) => ({
      ...NO_CREDENTIALS,
      TROUPE_NATS_SEED: keys.seed(identity),
    });
    const nodes = NODES.map((name) =>
      troupe(['node', CLUSTER, '--name', name, '--nats', nats.url, '--json'], { env: seedEnv(node(name)) }),
    );
    await Promise.all(nodes.map((run) => run.waitFor(/"type":"node.ready"/)));
    // East's credentials in another process: it tries to be south and the coordinator, and to
    // read what is meant for them.
    const east = await connectNats(nats.url, 'intruder', {
      seed: keys.seed(node('east')),
      inboxPrefix: inboxPrefix(SYSTEM, node('east')),
    });
    cleanups.push(() => east.close());
    const refused = refusals(east);
    const taken: string[] = [];
    for (const subject of [
      `troupe.${SYSTEM}.node.south.chan.*.down`,
      `troupe.${SYSTEM}.node.south.spawn`,
      `troupe.${SYSTEM}.node.*.chan.*.up`,
      `troupe.${SYSTEM}.node.*.alive`,
      `_INBOX.troupe.${SYSTEM}.coordinator.>`,
    ]) {
      const subscription = east.subscribe(subject);
      void (async () => {
        try {
          for await (const message of subscription) taken.push(message.subject);
        } catch {
          // Refused: counted by the status stream.
        }
      })();
    }
    const forge = setInterval(() => {
      east.publish(`troupe.${SYSTEM}.node.south.alive`, JSON.stringify({ name: 'south', pid: 1 }));
      east.publish(`troupe.${SYSTEM}.coordinator.alive`, JSON.stringify({ id: 'forged', pid: 1 }));
      east.publish(`troupe.${SYSTEM}.node.south.drop`, 'forged');
      east.publish(`troupe.${SYSTEM}.node.west.shutdown`);
    }, 50);
    cleanups.push(() => clearInterval(forge));
    const [alone, cluster] = await Promise.all([
      troupe(['run', CLUSTER, '--until-idle', '--json']).exit,
      troupe(['cluster', CLUSTER, '--nodes', '3', '--nats', nats.url, '--until-idle', '--json'], {
        env: seedEnv({ role: 'coordinator' }),
      }).exit,
    ]);
    clearInterval(forge);
    await east.flush();
    expect(cluster.code, cluster.stderr).toBe(0);
    expect(traceOf(cluster.stdout)).toBe(traceOf(alone.stdout));
    const lines = parseJsonLines(cluster.stdout);
    expect(lines.filter((line) => line.type === 'node.lost')).toEqual([]);
    expect(taken).toEqual([]);
    for (const subject of [
      `Subscription to "troupe.${SYSTEM}.node.south.chan.*.down"`,
      `Subscription to "_INBOX.troupe.${SYSTEM}.coordinator.>"`,
      `Publish to "troupe.${SYSTEM}.node.south.alive"`,
      `Publish to "troupe.${SYSTEM}.coordinator.alive"`,
      `Publish to "troupe.${SYSTEM}.node.west.shutdown"`,
    ])
      expect(
        refused.some((text) => text.includes(subject)),
        subject,
      ).toBe(true);
    // The coordinator's shutdown at the end of its run stops them.
    for (const run of nodes) expect((await run.exit).code).toBe(0);
  }, 120_000);

  it('a second node under a live name exits 1 naming the live one; forged beats are not believed', async () => {
    // Before: a second `troupe node --name south` made south flap (149 losses in 20 s).
    const file = longClusterSystem({ name: 'long-cluster', seed: 3, limit: 1200 });
    const system = 'long-cluster';
    const keys = clusterKeys(system, NODES);
    const nats = await startLocalNats({ authorization: keys.authorization });
    cleanups.push(() => nats.stop());
    const seedEnv = (identity: ClusterIdentity) => ({
      ...NO_CREDENTIALS,
      TROUPE_NATS_SEED: keys.seed(identity),
    });
    const start = (name: string) =>
      troupe(['node', file, '--name', name, '--nats', nats.url, '--json'], { env: seedEnv(node(name)) });
    const nodes = NODES.map(start);
    const south = JSON.parse(await (nodes[1] as (typeof nodes)[number]).waitFor(/"type":"node.ready"/)) as {
      pid: number;
      incarnation: string;
    };
    await Promise.all(nodes.map((run) => run.waitFor(/"type":"node.ready"/)));
    const flags = ['--root', '/', '--until-idle', '--json'];
    const alone = troupe(['run', file, ...flags]).exit;
    const cluster = troupe(['cluster', file, '--nodes', '3', '--nats', nats.url, ...flags], {
      env: seedEnv({ role: 'coordinator' }),
    });
    await cluster.waitFor(/"type":"cluster.ready"/);
    // Mid-run: beats forged with south's credentials, under another incarnation.
    const forger = await connectNats(nats.url, 'forger', {
      seed: keys.seed(node('south')),
      inboxPrefix: inboxPrefix(system, node('south')),
    });
    cleanups.push(() => forger.close());
    const forged = { name: 'south', pid: 4242, incarnation: 'forged', since: Date.now() };
    for (let i = 0; i < 20; i++) forger.publish(`troupe.${system}.node.south.alive`, JSON.stringify(forged));
    await forger.flush();
    // And a second south, started by mistake.
    const second = await start('south').exit;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `a node named "south" is already live (process ${south.pid}, incarnation ${south.incarnation}`,
    );
    const [whole, run] = await Promise.all([alone, cluster.exit]);
    expect(run.code, run.stderr).toBe(0);
    expect(traceOf(run.stdout)).toBe(traceOf(whole.stdout));
    const lines = parseJsonLines(run.stdout);
    expect(lines.filter((line) => line.type === 'node.lost')).toEqual([]);
    expect(lines.filter((line) => line.type === 'node.duplicate')).toEqual([
      expect.objectContaining({ node: 'south', live: south.pid, other: 4242 }),
    ]);
    // The coordinator's shutdown at the end of its run stops them.
    for (const run of nodes) expect((await run.exit).code).toBe(0);
  }, 120_000);

  it('troupe nats-config writes a private folder: the server block and one seed per party', async () => {
    const out = join(tempDir(), 'credentials');
    const made = await troupe(['nats-config', CLUSTER, '--nodes', 'east,west', '--out', out]).exit;
    expect(made.code, made.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    for (const file of ['authorization.conf', 'coordinator.nk', 'node-east.nk', 'node-west.nk'])
      expect(statSync(join(out, file)).mode & 0o777, file).toBe(0o600);
    expect(readFileSync(join(out, 'node-east.nk'), 'utf8')).toMatch(/^SU[A-Z2-7]{56}\n$/);
    // A server started on the block admits the node with its seed file, as docs/cluster.md shows.
    const nats = await startLocalNats({
      authorization: readFileSync(join(out, 'authorization.conf'), 'utf8'),
    });
    cleanups.push(() => nats.stop());
    const joined = troupe(['node', CLUSTER, '--name', 'east', '--nats', nats.url, '--json'], {
      env: { ...NO_CREDENTIALS, TROUPE_NATS_NKEY: join(out, 'node-east.nk') },
    });
    await joined.waitFor(/"type":"node.ready"/);
    joined.child.kill('SIGTERM');
    expect((await joined.exit).code).toBe(0);
    // Nothing is overwritten, and a bad node name is refused by name.
    const again = await troupe(['nats-config', CLUSTER, '--nodes', 'east', '--out', out]).exit;
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${out} already exists; credentials go in a new folder`);
    const bad = await troupe(['nats-config', CLUSTER, '--nodes', 'east,no.dots', '--out', join(out, 'x')])
      .exit;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--nodes: "no.dots" is not a node name');
    expect(existsSync(join(out, 'x'))).toBe(false);
  }, 60_000);
});
