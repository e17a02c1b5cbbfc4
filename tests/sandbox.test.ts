// ABI v1 inside one process: module checks, init and handle, traps as data, deterministic random.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { messageRandom } from '../src/abi/index.js';
import { AgentSandbox, compileAgentModule } from '../src/actors/index.js';
import { type Envelope, envelopeId } from '../src/protocol/index.js';
import { agentModule, FIXTURES } from './helpers/paths.js';
import { assembleWat } from './helpers/wat.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const fixture = (name: string) => assembleWat(readFileSync(join(FIXTURES, 'wat', `${name}.wat`), 'utf8'));

function load(bytes: Uint8Array, seed = 1): AgentSandbox {
  const check = compileAgentModule(bytes, 'module under test');
  if (!check.ok) throw new Error(check.reason);
  return AgentSandbox.instantiate(check.module, seed);
}

function envelope(from: string, kind: string, payload: string, seq = 1): Envelope {
  return { from, to: 'me', kind, payload: utf8(payload), seq };
}

describe('module checks', () => {
  it('refuses an import outside ABI v1, naming it', () => {
    const check = compileAgentModule(fixture('forbidden-import'), 'module bad.wasm');
    expect(check).toMatchObject({ ok: false, reason: expect.stringContaining('imports "env.fetch"') });
    expect(check.ok ? '' : check.reason).toContain('troupe.v1.send');
  });

  it('refuses a module missing a required export, naming it', () => {
    const check = compileAgentModule(fixture('missing-handle'), 'module m.wasm');
    expect(check).toMatchObject({
      ok: false,
      reason: expect.stringContaining('does not export "troupe_handle"'),
    });
  });

  it('refuses bytes that are not WebAssembly', () => {
    const check = compileAgentModule(utf8('definitely not wasm'), 'module junk.wasm');
    expect(check).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a valid WebAssembly module'),
    });
  });

  it('accepts every example agent built from AssemblyScript', () => {
    for (const name of ['echo', 'counter', 'relay', 'picky', 'dice', 'blaster', 'sink']) {
      expect(compileAgentModule(readFileSync(agentModule(name)), name).ok).toBe(true);
    }
  });
});

describe('echo agent', () => {
  it('answers with the same payload, addressed to the sender and correlated', () => {
    const echo = load(readFileSync(agentModule('echo')));
    expect(echo.init(new Uint8Array(), 0)).toMatchObject({ ok: true, outputs: [] });
    const result = echo.handle([envelope('alice', 'greeting', 'hi there', 7)], 1);
    if (!result.ok) throw new Error(result.reason);
    expect(result.outputs).toHaveLength(1);
    const [out] = result.outputs;
    expect(out).toMatchObject({ to: 'alice', kind: 'echo', correlationId: 'alice#7' });
    expect(text(out?.payload)).toBe('hi there');
  });

  it('handles a whole batch in order', () => {
    const echo = load(readFileSync(agentModule('echo')));
    echo.init(new Uint8Array(), 0);
    const batch = ['a', 'b', 'c'].map((p, i) => envelope(`s${i}`, 'k', p));
    const result = echo.handle(batch, 1);
    expect(result.ok && result.outputs.map((o) => `${o.to}:${text(o.payload)}`)).toEqual([
      's0:a',
      's1:b',
      's2:c',
    ]);
  });
});

describe('memory growth', () => {
  it('keeps reading and writing correctly after the module grows its memory', () => {
    const echo = load(readFileSync(agentModule('echo')));
    echo.init(new Uint8Array(), 0);
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    const batch: Envelope[] = [
      envelope('a', 'k', 'before'),
      { from: 'b', to: 'me', kind: 'big', payload: big, seq: 2 },
      envelope('c', 'k', 'after'),
    ];
    const result = echo.handle(batch, 1);
    if (!result.ok) throw new Error(result.reason);
    expect(result.outputs.map((out) => out.to)).toEqual(['a', 'b', 'c']);
    expect(result.outputs[1]?.payload?.length).toBe(big.length);
    expect(result.outputs[1]?.payload?.every((byte) => byte === 7)).toBe(true);
    expect(text(result.outputs[2]?.payload)).toBe('after');
  });
});

describe('counter agent', () => {
  it('keeps state across messages and starts from its init data', () => {
    const counter = load(readFileSync(agentModule('counter')));
    counter.init(utf8('40'), 0);
    counter.handle([envelope('x', 'add', ''), envelope('x', 'add', '')], 1);
    const result = counter.handle([envelope('x', 'get', '')], 2);
    expect(result.ok && text(result.outputs[0]?.payload)).toBe('42');
  });
});

describe('traps and bad calls', () => {
  it('turns a trap into a failure naming the message index and the abort reason', () => {
    const picky = load(readFileSync(agentModule('picky')));
    picky.init(utf8('trapOn=5'), 0);
    const result = picky.handle([envelope('a', 'hop', '4'), envelope('a', 'hop', '5')], 3);
    expect(result).toMatchObject({
      ok: false,
      index: 1,
      reason: expect.stringMatching(/^trap: unreachable.*refusing to handle 5/),
    });
  });

  it('reports a trap in init', () => {
    const agent = load(fixture('trap-in-init'));
    expect(agent.init(new Uint8Array(), 0)).toMatchObject({ ok: false, reason: 'trap: unreachable' });
  });

  it('answers a malformed send block with -1 instead of crashing', () => {
    const agent = load(fixture('bad-send'));
    agent.init(new Uint8Array(), 0);
    expect(agent.handle([envelope('a', 'k', '')], 1)).toMatchObject({ ok: true, outputs: [] });
  });
});

describe('logical time and seeded random', () => {
  const rolls = (seed: number, tick: number, from = 'p') => {
    const dice = load(readFileSync(agentModule('dice')), seed);
    dice.init(new Uint8Array(), 0);
    const result = dice.handle(
      Array.from({ length: 20 }, (_, i) => envelope(from, 'roll', '', i)),
      tick,
    );
    return result.ok ? result.outputs.map((out) => text(out.payload)) : [];
  };
  const faces = (list: string[]) => list.map((roll) => roll.split(':')[1]);

  it('gives the tick as now() and the same rolls for the same seed and messages', () => {
    const first = rolls(7, 12);
    expect(first).toHaveLength(20);
    expect(first.every((roll) => /^12:[1-6]$/.test(roll))).toBe(true);
    expect(rolls(7, 12)).toEqual(first);
  });

  it('a message retried at a later tick, alone or in another batch, draws the same numbers', () => {
    const first = faces(rolls(7, 12));
    expect(faces(rolls(7, 40))).toEqual(first);
    const dice = load(readFileSync(agentModule('dice')), 7);
    dice.init(new Uint8Array(), 0);
    const alone = dice.handle([envelope('p', 'roll', '', 5)], 41);
    expect(alone.ok ? faces(alone.outputs.map((out) => text(out.payload))) : []).toEqual([first[5]]);
  });

  it("each message draws from its own id's stream (journals made before stay replayable)", () => {
    const expected = Array.from({ length: 20 }, (_, i) => {
      const draw = messageRandom(7, envelopeId(envelope('p', 'roll', '', i)));
      return String(Math.floor(draw() * 6) + 1);
    });
    expect(faces(rolls(7, 12))).toEqual(expected);
  });

  it('gives other rolls for another seed or other messages', () => {
    const first = faces(rolls(7, 12));
    expect(faces(rolls(8, 12))).not.toEqual(first);
    expect(faces(rolls(7, 12, 'q'))).not.toEqual(first);
  });
});

describe('troupe_handle results', () => {
  it('a result other than 0 (continue) or 1 (finish) is a crash that says so', () => {
    const agent = load(
      assembleWat(`(module
      (memory (export "memory") 1)
      (func (export "troupe_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "troupe_init") (param i32 i32) (result i32) (i32.const 0))
      (func (export "troupe_handle") (param i32 i32) (result i32) (i32.const 7)))`),
    );
    agent.init(new Uint8Array(), 0);
    expect(agent.handle([envelope('a', 'k', '')], 1)).toMatchObject({
      ok: false,
      index: 0,
      reason: 'troupe_handle returned 7 (0 continues, 1 finishes)',
    });
  });
});

describe('what a tick may report', () => {
  it('a log line longer than 4 KiB is cut, with a note, so an honest host stays within its limits', () => {
    const agent = load(
      assembleWat(`(module
      (import "troupe.v1" "log" (func $log (param i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 2048) "${'\\c3\\a9'.repeat(5000)}")
      (func (export "troupe_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "troupe_init") (param i32 i32) (result i32) (i32.const 0))
      (func (export "troupe_handle") (param i32 i32) (result i32)
        (call $log (i32.const 1) (i32.const 2048) (i32.const 10000))
        (i32.const 0)))`),
    );
    agent.init(new Uint8Array(), 0);
    const result = agent.handle([envelope('a', 'k', '')], 1);
    const line = result.logs[0]?.text ?? '';
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    expect(line).toMatch(/^(é)+ …\(cut\)$/);
  });
});
