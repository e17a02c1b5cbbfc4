// A cluster keeps running through its own faults (issue 26): the nats-server `troupe cluster`
// started dies and is started again on its port with its keys; if it cannot be, the run stops at
// once with the reason, and its journal resumes. Real nats-server and node processes; every
// process a test starts is ended by it.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NATS_SERVER } from '../src/cluster/index.js';
import { expectAllEnded, killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { longClusterSystem } from './helpers/long-cluster.js';
import { agentModule } from './helpers/paths.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  removeTempDirs();
});

const FLAGS = ['--root', '/', '--until-idle', '--json'];
const endOf = (stdout: string) => parseJsonLines(stdout).find((line) => line.type === 'run.end');

describe('nodes troupe cluster started', () => {
  it('a node that dies again before it rejoined is started again, with backoff, until it rejoins', async () => {
    // Before: a node that died before rejoining stayed down for good.
    const file = longClusterSystem({ name: 'nodes-down', seed: 4, limit: 1200 });
    const whole = troupe(['run', file, ...FLAGS]).exit;
    const run = troupe(['cluster', file, '--nodes', '3', ...FLAGS]);
    const ready = JSON.parse(await run.waitFor(/"type":"cluster.ready"/)) as {
      nodes: string[];
      pids: number[];
    };
    process.kill(ready.pids[ready.nodes.indexOf('west')] as number, 'SIGKILL');
    // Started again, and killed before it could rejoin (a new node listens 500 ms before it beats).
    const again = JSON.parse(await run.waitFor(/"type":"node.restarted","node":"west"/)) as { pid: number };
    process.kill(again.pid, 'SIGKILL');
    const down = JSON.parse(await run.waitFor(/"type":"node.down","node":"west"/)) as { retryMs: number };
    expect(down.retryMs).toBeGreaterThan(0);
    await run.waitFor(/"type":"node.joined","node":"west"/);
    const [alone, cluster] = await Promise.all([whole, run.exit]);
    expect(cluster.code, cluster.stderr).toBe(0);
    const lines = parseJsonLines(cluster.stdout);
    expect(lines.filter((line) => line.type === 'node.restarted' && line.node === 'west')).toHaveLength(2);
    expect(lines.find((line) => line.type === 'cluster.end')).toEqual({
      type: 'cluster.end',
      nodes: ['east', 'south', 'west'],
      down: [],
    });
    expect(endOf(cluster.stdout)).toMatchObject({ ok: true, trace: endOf(alone.stdout)?.trace });
  }, 120_000);

  it("a paused node's agents move, the others' are untouched, and once it runs again it rejoins", async () => {
    // Before: the node, counted lost while paused, was never believed again (its beats were a
    // lost incarnation's), and it stayed down for the rest of the run.
    const file = longClusterSystem({ name: 'nodes-paused', seed: 5, limit: 1_000_000 });
    const run = troupe(['cluster', file, '--nodes', '3', '--root', '/', '--control', '--json'], {
      stdin: true,
    });
    const ready = JSON.parse(await run.waitFor(/"type":"cluster.ready"/)) as {
      nodes: string[];
      pids: number[];
    };
    const east = ready.pids[ready.nodes.indexOf('east')] as number;
    // Paused once every agent runs (ping on east, pong on west, picky on south).
    await run.waitFor(/"agent":"picky","state":"running"/);
    process.kill(east, 'SIGSTOP');
    try {
      await run.waitFor(/"type":"node.lost","node":"east"/);
    } finally {
      process.kill(east, 'SIGCONT');
    }
    await run.waitFor(/"type":"node.joined","node":"east"/);
    run.child.stdin?.write('{"op":"stop"}\n');
    const { code, stdout, stderr } = await run.exit;
    expect(code, stderr).toBe(0);
    const lines = parseJsonLines(stdout);
    // Only east's agent was moved: no agent of west, south or the coordinator's machine crashed
    // but for picky's own trap, and no node ended its hosts for want of the coordinator.
    const moved = lines.filter(
      (line) => line.type === 'agent.crashed' && !String(line.reason).startsWith('trap'),
    );
    expect(moved.map((line) => line.agent)).toEqual(['ping']);
    expect(stderr).not.toMatch(/coordinator was not heard/);
    expect(lines.filter((line) => line.type === 'node.lost').map((line) => line.node)).toEqual(['east']);
    expect(lines.find((line) => line.type === 'cluster.end')).toMatchObject({ down: [] });
    await expectAllEnded([...ready.pids]);
  }, 120_000);
});

describe('large frames between nodes', () => {
  it('a tick of 2 MB to one agent crosses as several NATS messages, with the trace of one machine', async () => {
    // Before: a node's channel put a turn's frames in one NATS message, and the node crashed
    // ("'payload' max_payload size exceeded") when they passed the server's 1 MB.
    const file = join(tempDir(), 'blast.system.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'blast',
        seed: 1,
        agents: [
          {
            name: 'blaster',
            module: agentModule('blaster'),
            init: 'to=sink;count=20;size=100000;self=blaster',
            placement: 'east',
            capabilities: { sendTo: ['*'] },
            limits: { maxSendsPerMessage: 100, maxMessageBytes: 200000 },
          },
          {
            name: 'sink',
            module: agentModule('sink'),
            placement: 'west',
            limits: { maxMessageBytes: 200000 },
          },
        ],
      }),
    );
    const flags = ['--root', '/', '--max-ticks', '12', '--json'];
    const [alone, cluster] = await Promise.all([
      troupe(['run', file, ...flags]).exit,
      troupe(['cluster', file, '--nodes', '2', ...flags]).exit,
    ]);
    expect(cluster.code, cluster.stderr).toBe(0);
    const lines = parseJsonLines(cluster.stdout);
    expect(lines.filter((line) => line.type === 'node.lost' || line.type === 'agent.crashed')).toEqual([]);
    expect(endOf(cluster.stdout)).toMatchObject({
      ok: true,
      ticks: 12,
      trace: endOf(alone.stdout)?.trace,
      delivered: endOf(alone.stdout)?.delivered,
    });
  }, 120_000);
});

describe("the cluster's own nats-server", () => {
  it('SIGKILLed mid-run, it is started again on its port with its keys; the run ends as an undisturbed one', async () => {
    const file = longClusterSystem({ name: 'nats-restart', seed: 4, limit: 1200 });
    const whole = troupe(['run', file, ...FLAGS]).exit;
    const run = troupe(['cluster', file, '--nodes', '3', ...FLAGS]);
    const ready = JSON.parse(await run.waitFor(/"type":"cluster.ready"/)) as {
      pids: number[];
      natsPid: number;
    };
    await run.waitFor(/"type":"agent.crashed","agent":"picky"/);
    process.kill(ready.natsPid, 'SIGKILL');
    const restarted = JSON.parse(await run.waitFor(/"type":"nats.restarted"/)) as { pid: number };
    expect(restarted.pid).not.toBe(ready.natsPid);
    const [alone, cluster] = await Promise.all([whole, run.exit]);
    expect(cluster.code, cluster.stderr).toBe(0);
    expect(endOf(cluster.stdout)).toMatchObject({
      ok: true,
      trace: endOf(alone.stdout)?.trace,
      delivered: endOf(alone.stdout)?.delivered,
    });
    expect(parseJsonLines(cluster.stdout).filter((line) => line.type === 'node.lost')).toEqual([]);
    await expectAllEnded([...ready.pids, restarted.pid]);
  }, 120_000);

  it('one that cannot be started again stops the run with the reason; its journal resumes to the same end', async () => {
    // A server that starts once: started again, it exits at once (as a missing binary would).
    const dir = tempDir();
    const server = join(dir, 'nats-once.sh');
    writeFileSync(
      server,
      `#!/bin/sh\nif [ -e "${dir}/started" ]; then echo "refusing to start again" >&2; exit 3; fi\ntouch "${dir}/started"\nexec ${NATS_SERVER} "$@"\n`,
    );
    chmodSync(server, 0o755);
    const file = longClusterSystem({ name: 'nats-gone', seed: 4, limit: 1200 });
    const journal = join(dir, 'run.journal');
    const whole = troupe(['run', file, ...FLAGS]).exit;
    const run = troupe(['cluster', file, '--nodes', '3', '--journal', journal, ...FLAGS], {
      env: { TROUPE_NATS_SERVER: server },
    });
    const ready = JSON.parse(await run.waitFor(/"type":"cluster.ready"/)) as {
      pids: number[];
      natsPid: number;
    };
    await run.waitFor(/"type":"agent.crashed","agent":"picky"/);
    process.kill(ready.natsPid, 'SIGKILL');
    const stopped = await run.exit;
    expect(stopped.code).toBe(2);
    expect(stopped.stderr).toMatch(
      /troupe: the cluster's nats-server exited and could not be started again on port \d+ within 4000 ms: nats-server did not start: it exited with code 3\nrefusing to start again\. The run stopped here; its journal, if it keeps one, resumes with --resume\./,
    );
    await expectAllEnded(ready.pids);
    expect(readFileSync(journal).length).toBeGreaterThan(0);
    const resumed = await troupe([
      'cluster',
      file,
      '--nodes',
      '3',
      '--journal',
      journal,
      '--resume',
      ...FLAGS,
    ]).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    const alone = await whole;
    expect(endOf(resumed.stdout)).toMatchObject({ ok: true, trace: endOf(alone.stdout)?.trace });
  }, 180_000);
});
