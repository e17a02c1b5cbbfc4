// Restore from snapshot: an agent killed mid-run comes back with the state of the last tick
// boundary, and its interrupted batch is retried, so no update is lost or applied twice.
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySnapshotStore, type RuntimeEvent } from '../src/supervisor/index.js';
import { agentModule } from './helpers/paths.js';
import { hostPid, killAllHosts, logsOf, removeTempDirs, startRun, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllHosts();
  removeTempDirs();
});

const LIMIT = 120;

/** Hops 1..LIMIT are added to the counter (through `adder`); at the end ping asks for the total. */
function ledger(snapshotEveryTicks?: number) {
  const relay = agentModule('relay');
  return writeSystem({
    agents: [
      {
        name: 'ping',
        module: relay,
        init: `peer=pong;start=1;limit=${LIMIT};observer=adder;counter=counter`,
      },
      { name: 'pong', module: relay, init: `peer=ping;limit=${LIMIT};observer=adder;counter=counter` },
      { name: 'adder', module: agentModule('picky'), init: 'counter=counter;trapOn=-1' },
      { name: 'counter', module: agentModule('counter'), snapshotEveryTicks },
    ],
  });
}

/** Kills the counter's host twice, each time while it holds a batch (it gets mail every tick). */
function killCounter(spec: ReturnType<typeof ledger>, store = new MemorySnapshotStore()) {
  let kills = 0;
  return startRun(spec, { snapshots: store }, ({ tick, agents }) => {
    const busy = agents.includes('counter');
    const due = (kills === 0 && tick >= 60 && busy) || (kills === 1 && tick >= 90 && busy);
    const pid = hostPid('counter');
    if (due && pid) {
      process.kill(pid, 'SIGKILL');
      kills++;
    }
  });
}

function total(events: readonly RuntimeEvent[]): number | undefined {
  const said = [...logsOf(events, 'ping'), ...logsOf(events, 'pong')];
  const line = said.find((text) => text.includes('counter counted'));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('restore from snapshot', () => {
  it('an agent killed twice ends with the same total as a run without kills', async () => {
    const undisturbed = startRun(ledger(1));
    await undisturbed.done;
    const expected = total(undisturbed.events);
    expect(expected).toBeGreaterThan(LIMIT);
    const run = killCounter(ledger(1));
    const summary = await run.done;
    expect(summary.agents.counter?.restarts).toBe(2);
    expect(
      logsOf(run.events, 'counter').filter((text) => text === 'restored from its last snapshot'),
    ).toHaveLength(2);
    expect(total(run.events)).toBe(expected);
  });

  it('without snapshots the same kills lose the state (init starts from zero)', async () => {
    const undisturbed = startRun(ledger());
    await undisturbed.done;
    const run = killCounter(ledger());
    await run.done;
    expect(total(run.events)).toBeLessThan(total(undisturbed.events) as number);
  });

  it('a corrupt snapshot is refused with the reason and the agent starts from init', async () => {
    class CorruptingStore extends MemorySnapshotStore {
      override load(agent: string): Uint8Array | undefined {
        const snapshot = super.load(agent);
        if (!snapshot) return undefined;
        const copy = Uint8Array.from(snapshot);
        copy[copy.length - 1] = (copy.at(-1) ?? 0) ^ 0xff;
        return copy;
      }
    }
    const run = killCounter(ledger(1), new CorruptingStore());
    const summary = await run.done;
    expect(summary.ok).toBe(true);
    expect(logsOf(run.events, 'counter')).toContain(
      'snapshot refused (snapshot checksum mismatch); starting from init',
    );
  });
});
