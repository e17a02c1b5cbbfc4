// The fuel meter has no gaps: bulk operations cost by their length, a start function runs with
// a budget, instructions it cannot charge are refused by name, and the meter's reserved names
// are refused in a module's exports (not in its internal names). Nothing it meets is thrown.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentSandbox, checkAgentModule, compileAgentModule, type RunResult } from '../src/actors/index.js';
import { loadMeter } from '../src/supervisor/modules/index.js';
import { FIXTURES } from './helpers/paths.js';
import { assembleWat } from './helpers/wat.js';

const meterModule = await loadMeter();
const LIMITS = { fuel: 5_000_000, maxMessageBytes: 1024, maxSendsPerMessage: 10, memoryPages: 64 };

const wat = (name: string) => assembleWat(readFileSync(join(FIXTURES, 'wat', `${name}.wat`), 'utf8'), name);

function sandbox(name: string, fuel = LIMITS.fuel): AgentSandbox {
  const metered = meterModule(wat(name), name, { maxMemoryPages: LIMITS.memoryPages });
  if (!metered.ok) throw new Error(metered.reason);
  const check = compileAgentModule(metered.bytes, name);
  if (!check.ok) throw new Error(check.reason);
  return AgentSandbox.instantiate(check.module, 1, { ...LIMITS, fuel });
}

function handleOnce(name: string, kind: string, fuel?: number): RunResult {
  const agent = sandbox(name, fuel);
  expect(agent.start(0).ok).toBe(true);
  expect(agent.init(new Uint8Array(), 0).ok).toBe(true);
  return agent.handle([{ from: 'x', to: name, kind, seq: 1 }], 1);
}

describe('bulk operations cost fuel by length', () => {
  for (const [kind, op] of [
    ['fill', 'memory.fill'],
    ['copy', 'memory.copy'],
  ] as const) {
    it(`a loop of 1 MiB ${op}s is stopped by fuel, at the same round on every run`, () => {
      const first = handleOnce('bulk-loop', kind);
      expect(first).toMatchObject({ ok: false, reason: expect.stringMatching(/^fuel exhausted/) });
      // 1 MiB costs 16,385 units: 5,000,000 units last 305 rounds (19 logs of 16 rounds). Charged
      // one unit per operation, the loop would run 1.6 million rounds (terabytes of writes).
      expect(first.logs).toHaveLength(19);
      expect(handleOnce('bulk-loop', kind).logs).toEqual(first.logs);
      expect(handleOnce('bulk-loop', kind, 2 * LIMITS.fuel).logs.length).toBeGreaterThan(first.logs.length);
    });
  }

  it('memory.init is charged too, by its length', () => {
    // 4 KiB cost 65 units: 100,000 units last about 1,500 rounds (94 logs). Charged one unit per
    // operation, they would last 33,000 rounds (past the 200 log lines a tick keeps).
    const first = handleOnce('bulk-loop', 'init', 100_000);
    expect(first).toMatchObject({ ok: false, reason: expect.stringMatching(/^fuel exhausted/) });
    expect(first.logs).toHaveLength(94);
    expect(handleOnce('bulk-loop', 'init', 100_000).logs).toEqual(first.logs);
  });

  it('refuses a module using table.fill, which it cannot charge, naming the instruction', () => {
    const result = meterModule(wat('table-fill'), 'module t.wasm', { maxMemoryPages: 64 });
    expect(result).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^module t\.wasm: function ".*" uses table\.fill, which Troupe's meter cannot charge/,
      ),
    });
  });
});

describe('the start function', () => {
  it('runs with a budget: a start that never returns is stopped by fuel, named as such', () => {
    const agent = sandbox('start-loop', 100_000);
    expect(agent.start(0)).toMatchObject({
      ok: false,
      reason:
        'in its start function: fuel exhausted: the call used more than its budget of 100000 (limits.fuel)',
    });
  });

  it('still runs once, before init, when it returns', () => {
    const agent = sandbox('start-counts');
    const started = agent.start(0);
    expect(started.ok).toBe(true);
    expect(started.logs).toEqual([{ level: 1, text: 'started' }]);
    expect(agent.init(new Uint8Array(), 0).ok).toBe(true);
  });
});

describe("the meter's reserved names", () => {
  it('refuses a module exporting one, naming the export', () => {
    expect(checkAgentModule(wat('reserved-export'), 'module r.wasm')).toEqual({
      ok: false,
      reason:
        'module r.wasm exports "__troupe_fuel": names starting with "__troupe_" are reserved for Troupe\'s meter',
    });
  });

  it("meters a module whose internal names look like the meter's, and it runs", () => {
    const result = handleOnce('reserved-internal', 'go');
    expect(result).toMatchObject({ ok: true, logs: [{ level: 1, text: 'handled' }] });
  });
});
