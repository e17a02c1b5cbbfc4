// The ledger over a cluster: producers and accounts spread over east, west and south, each
// taking a snapshot every tick, and an auditor on the coordinator's machine. Every transfer is a
// numbered message: the audit finds each debited and credited exactly once, or says otherwise.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentModule } from './paths.js';
import { tempDir } from './system.js';

export const ACCOUNTS = ['acct-1', 'acct-2', 'acct-3', 'acct-4'];
export const PRODUCERS = ['prod-1', 'prod-2'];
export const TRANSFERS = 400;

/** The ledger: producers and accounts spread over east, west and south; the auditor here. */
export function writeLedger(
  isolation: { producers?: string; accounts?: string } = {},
  transfers = TRANSFERS,
): string {
  const file = join(tempDir(), 'ledger.system.yaml');
  const place = (i: number) => ['east', 'west', 'south'][i % 3];
  writeFileSync(
    file,
    JSON.stringify({
      name: 'cluster-ledger',
      seed: 3,
      supervisor: { maxRestarts: 100, periodMs: 600_000, backoff: { initialTicks: 1, multiplier: 1 } },
      agents: [
        ...PRODUCERS.map((name, i) => ({
          name,
          module: agentModule('ledger-producer'),
          init: `id=${name};accounts=${ACCOUNTS.join(',')};count=${transfers};perTick=4`,
          placement: place(i),
          ...(isolation.producers ? { isolation: isolation.producers } : {}),
          snapshot: { everyTicks: 1 },
          capabilities: { sendTo: ['*'] },
        })),
        ...ACCOUNTS.map((name, i) => ({
          name,
          module: agentModule('ledger-account'),
          init: '10000',
          placement: place(i),
          ...(isolation.accounts ? { isolation: isolation.accounts } : {}),
          snapshot: { everyTicks: 1 },
          capabilities: { sendTo: ['*'] },
        })),
        {
          name: 'auditor',
          module: agentModule('ledger-auditor'),
          init: `accounts=${ACCOUNTS.join(',')}`,
          capabilities: { sendTo: ['*'] },
        },
      ],
    }),
  );
  return file;
}

/** What the audit logs when every transfer (`transfers` a producer) was applied exactly once. */
export function balanced(transfers = TRANSFERS): string {
  const all = PRODUCERS.length * transfers;
  return `audit total=${ACCOUNTS.length * 10_000} debits=${all} credits=${all}`;
}
