// Chaos in one cluster run (issue 26), seeded (the seed is printed; TROUPE_TEST_SEED repeats it):
// the ledger on `troupe cluster` with a journal, and meanwhile a node killed at a random instant
// from start-up on, a second process under a live node's name, another node kill, the
// nats-server killed, and a node paused (SIGSTOP) for 2.5 s. Every transfer (a numbered message)
// must be applied exactly once, the journal must replay, and no process may be left.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectAllEnded, killAllCli, parseJsonLines, troupe } from './helpers/cli.js';
import { balanced, writeLedger } from './helpers/ledger-cluster.js';
import { seededRandom, testSeed } from './helpers/seed.js';
import { removeTempDirs, TEMP_ROOT, tempDir } from './helpers/system.js';

/** Transfers a producer makes: enough that the run is still going when the chaos is over. */
const TRANSFERS = 6000;
const timers: NodeJS.Timeout[] = [];
const paused = new Set<number>();
afterEach(() => {
  for (const timer of timers.splice(0)) clearTimeout(timer);
  for (const pid of paused) signal(pid, 'SIGCONT');
  paused.clear();
  killAllCli();
  removeTempDirs();
});

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** The `troupe node` processes `parent` started that are running now (from /proc). */
function nodesOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (ppid !== parent || state === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('node'))
        pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids.sort((a, b) => a - b);
}

/** A process's environment variable (the test runs as the same user). */
function environOf(pid: number, name: string): string | undefined {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return entries.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

const waitMs = (ms: number) => new Promise((resolve) => timers.push(setTimeout(resolve, ms)));

describe('cluster chaos', () => {
  it('applies every transfer once through node kills, a duplicate node, a nats-server kill and a pause', async () => {
    const seed = testSeed('cluster chaos');
    const next = seededRandom(seed);
    const at = (from: number, to: number) => Math.floor(from + next() * (to - from));
    const ledger = writeLedger({}, TRANSFERS);
    const journal = join(tempDir(), 'chaos.journal');
    const run = troupe(
      ['cluster', ledger, '--nodes', '3', '--root', '/', '--journal', journal, '--control', '--json'],
      { stdin: true },
    );
    const coordinator = run.child.pid as number;
    const done: string[] = [];
    const pids = new Set<number>();
    const killNode = async (when: string) => {
      // At start-up the nodes may not be there yet: the first one to be.
      let live = nodesOf(coordinator);
      while (live.length === 0 && run.child.exitCode === null) {
        await waitMs(20);
        live = nodesOf(coordinator);
      }
      const victim = live[Math.floor(next() * live.length)];
      if (victim === undefined) return;
      pids.add(victim);
      signal(victim, 'SIGKILL');
      done.push(`node ${victim} killed ${when}`);
    };
    // A node killed at a random instant from start-up on (before it joined, or just after).
    const early = waitMs(at(100, 1500)).then(() => killNode('at start-up'));
    // The audit once the ledger is idle; the stop once it has answered.
    let audited = false;
    let stopped = false;
    let chaosOver = false;
    const watch = setInterval(() => {
      if (chaosOver && !audited && run.lines.some((line) => line.includes('"type":"system.idle"'))) {
        audited = true;
        run.child.stdin?.write('{"op":"inject","to":"auditor","kind":"audit","text":""}\n');
      }
      if (!stopped && run.lines.some((line) => line.includes('"text":"audit '))) {
        stopped = true;
        run.child.stdin?.write('{"op":"stop"}\n');
      }
    }, 50);
    timers.push(watch as unknown as NodeJS.Timeout);
    const ready = JSON.parse(await run.waitFor(/"type":"cluster.ready"/)) as {
      nodes: string[];
      pids: number[];
      nats: string;
      natsPid: number;
    };
    await early;
    for (const pid of ready.pids) pids.add(pid);
    pids.add(ready.natsPid);
    // A second process under a live node's name, with that node's own credentials.
    const live = nodesOf(coordinator);
    const twin = live[Math.floor(next() * live.length)] as number;
    const args = readFileSync(`/proc/${twin}/cmdline`, 'utf8').split('\0');
    const name = args[args.indexOf('--name') + 1] as string;
    const second = await troupe(['node', ledger, '--name', name, '--nats', ready.nats], {
      env: { TROUPE_NATS_TOKEN: '', TROUPE_NATS_SEED: environOf(twin, 'TROUPE_NATS_SEED') ?? '' },
    }).exit;
    expect(second.code, `seed ${seed}`).toBe(1);
    expect(second.stderr).toContain(`a node named "${name}" is already live (process ${twin},`);
    done.push(`duplicate of ${name} refused`);
    // Then, at seeded instants: a node killed, the nats-server killed, a node paused for 2.5 s.
    await Promise.all([
      waitMs(at(0, 2000)).then(() => killNode('mid-run')),
      waitMs(at(0, 2000)).then(() => {
        signal(ready.natsPid, 'SIGKILL');
        done.push('nats-server killed');
      }),
      waitMs(at(0, 2000)).then(async () => {
        const nodes = nodesOf(coordinator);
        const victim = nodes[Math.floor(next() * nodes.length)];
        if (victim === undefined || !signal(victim, 'SIGSTOP')) return;
        paused.add(victim);
        pids.add(victim);
        done.push(`node ${victim} paused`);
        await waitMs(2500);
        signal(victim, 'SIGCONT');
        paused.delete(victim);
      }),
    ]);
    chaosOver = true;
    // The chaos fell on a ledger at work, not on an idle one.
    expect(
      run.lines.some((line) => line.includes('"type":"system.idle"')),
      done.join(', '),
    ).toBe(false);
    const { code, stdout, stderr } = await run.exit;
    clearInterval(watch);
    const context = `seed ${seed}: ${done.join(', ')}`;
    expect(code, `${context}\n${stderr}`).toBe(0);
    const lines = parseJsonLines(stdout);
    for (const line of lines) {
      if (line.type === 'node.restarted' || line.type === 'nats.restarted') pids.add(line.pid as number);
    }
    expect(
      lines.filter((line) => line.type === 'agent.log' && String(line.text).startsWith('audit ')),
      context,
    ).toEqual([expect.objectContaining({ text: balanced(TRANSFERS) })]);
    const end = lines.find((line) => line.type === 'run.end');
    expect(end, context).toMatchObject({ ok: true, deadLetters: 0 });
    expect(
      lines.some((line) => line.type === 'nats.restarted'),
      context,
    ).toBe(true);
    // The journal replays to the run's trace.
    const replayed = await troupe(['replay', journal, '--root', '/', '--json'], { cwd: TEMP_ROOT }).exit;
    expect(replayed.code, `${context}\n${replayed.stderr}`).toBe(0);
    expect(parseJsonLines(replayed.stdout).at(-1)).toMatchObject({
      type: 'replay.end',
      ok: true,
      trace: end?.trace,
    });
    // Nothing it started is left: nodes (first and restarted), the duplicate, the servers.
    await expectAllEnded([...pids]);
  }, 240_000);
});
