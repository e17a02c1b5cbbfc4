// Chaos: a ledger runs over 10,000 messages while random agent hosts are killed throughout, in
// every isolation mode. With snapshots at every tick and retried batches, no transfer is lost or applied
// twice: the audit finds every debit matched by a credit and the money conserved.
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/supervisor/index.js';
import { agentModule } from './helpers/paths.js';
import { seededRandom, testSeed } from './helpers/seed.js';
import { killAllHosts, logsOf, removeTempDirs, startRun, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

const PRODUCERS = 4;
const TRANSFERS = 1300;
const ACCOUNTS = ['acct-1', 'acct-2', 'acct-3', 'acct-4', 'acct-5'];
const OPENING = 10_000;

describe.each(['process', 'thread', 'shared'] as const)('chaos (%s isolation)', (isolation) => {
  it('a ledger under random kills loses and duplicates no transfer', async () => {
    const seed = testSeed('chaos');
    const random = seededRandom(seed);
    const producers = Array.from({ length: PRODUCERS }, (_, i) => `prod-${i + 1}`);
    const spec = writeSystem({
      isolation,
      maxRestarts: 1000,
      periodMs: 600_000,
      backoff: { initialTicks: 1, multiplier: 1 },
      agents: [
        ...producers.map((name) => ({
          name,
          module: agentModule('ledger-producer'),
          init: `id=${name};accounts=${ACCOUNTS.join(',')};count=${TRANSFERS};perTick=5`,
          snapshotEveryTicks: 1,
        })),
        ...ACCOUNTS.map((name) => ({
          name,
          module: agentModule('ledger-account'),
          init: String(OPENING),
          snapshotEveryTicks: 1,
        })),
        { name: 'auditor', module: agentModule('ledger-auditor'), init: `accounts=${ACCOUNTS.join(',')}` },
      ],
    });
    const victims = [...producers, ...ACCOUNTS];
    const killed: string[] = [];
    let runtime: Runtime | undefined;
    let audited = false;
    const run = startRun(
      spec,
      {
        untilIdle: false,
        onEvent: (event) => {
          // Once the transfers are done the system idles: then ask for the audit, and stop after it.
          if (event.type === 'system.idle' && !audited) {
            audited = true;
            runtime?.inject('auditor', 'audit', new Uint8Array());
          }
          if (event.type === 'agent.log' && event.text.startsWith('audit ')) runtime?.requestStop('audited');
        },
      },
      ({ tick }, current) => {
        runtime = current;
        if (tick % 12 !== 0) return;
        const victim = victims[Math.floor(random() * victims.length)] as string;
        // A process host gets SIGKILL; a thread is terminated (in shared isolation, with the
        // agents that share it).
        current.kill(victim);
        killed.push(victim);
      },
    );
    const summary = await run.done;
    expect(killed.length, `seed ${seed}`).toBeGreaterThanOrEqual(10);
    expect(summary.delivered).toBeGreaterThanOrEqual(10_000);
    expect(summary.deadLetters).toBe(0);
    const expected = PRODUCERS * TRANSFERS;
    expect(logsOf(run.events, 'auditor'), `seed ${seed}, victims ${killed.join(' ')}`).toEqual([
      `audit total=${ACCOUNTS.length * OPENING} debits=${expected} credits=${expected}`,
    ]);
  }, 120_000);
});
