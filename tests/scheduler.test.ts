// The deterministic scheduler alone: keys, batches, atomic ticks, retries, capabilities.
import { describe, expect, it } from 'vitest';
import { envelopeId, type Output } from '../src/protocol/index.js';
import {
  type AgentLimits,
  type AgentSpec,
  EXTERNAL,
  REJECTED_KIND,
  RUNTIME,
  Scheduler,
} from '../src/supervisor/index.js';
import { collectGarbage } from './helpers/collect-garbage.js';

const DEFAULT_LIMITS: AgentLimits = {
  maxMessageBytes: 1024,
  fuel: 1000,
  memoryPages: 16,
  maxSendsPerMessage: 100,
  mailbox: 1000,
  overflow: 'dead-letter',
  watchdogMs: 1000,
};

function agent(
  name: string,
  sendTo: string[] | '*' = '*',
  maxMessageBytes = 1024,
  mailbox: Pick<AgentLimits, 'mailbox' | 'overflow'> = { mailbox: 1000, overflow: 'dead-letter' },
): AgentSpec {
  return {
    name,
    modulePath: `/m/${name}.wasm`,
    initData: new Uint8Array(),
    restart: 'permanent',
    limits: { ...DEFAULT_LIMITS, maxMessageBytes, ...mailbox },
    sendTo: sendTo === '*' ? '*' : new Set(sendTo),
    models: new Set(),
    tools: new Set(),
    isolation: 'process',
    declaredAt: 'test',
    listedAt: [],
    snapshotEvery: 0,
  };
}

const out = (to: string, text = '', kind = 'k'): Output => ({
  to,
  kind,
  payload: new TextEncoder().encode(text),
});
const all = () => true;
const ids = (plan: ReturnType<Scheduler['plan']>, who: string) =>
  plan.batches.find((batch) => batch.agent === who)?.envelopes.map(envelopeId);

describe('memory', () => {
  it('holds no envelope once its receiver has handled it (a mailbox that runs for long stays small)', async () => {
    // An agent that sends itself one message a tick, as a ticking agent does. An envelope handed
    // on must not be kept: its payload may be a view into the whole frame it came in, so each one
    // kept holds a frame (a mailbox kept the last thousand or so, each with its frame).
    const scheduler = new Scheduler([agent('a')], { maxBatch: 100, retryLimit: 2 });
    const sent: WeakRef<Uint8Array>[] = [];
    const message = (): Output[] => {
      const payload = new Uint8Array(64);
      sent.push(new WeakRef(payload));
      return [{ to: 'a', kind: 'tick', payload }];
    };
    scheduler.stage(EXTERNAL, message());
    for (let tick = 1; tick <= 200; tick++) {
      expect(scheduler.plan(all).batches[0]?.envelopes).toHaveLength(1);
      scheduler.complete('a', message());
    }
    await collectGarbage();
    const kept = sent.filter((payload) => payload.deref() !== undefined).length;
    // The last message is still in the mailbox, waiting for the next tick.
    expect(kept).toBe(1);
  });

  it('holds at most a batch of frames for a backlog: envelopes past it get bytes of their own', async () => {
    const scheduler = new Scheduler([agent('a'), agent('b')], { maxBatch: 2, retryLimit: 2 });
    // Five outputs to "b", each read off a frame of its own; "b" takes none yet (not eligible).
    const frames = Array.from({ length: 5 }, (_, i): WeakRef<ArrayBuffer> => {
      const frame = new ArrayBuffer(1 << 20);
      scheduler.stage('a', [{ to: 'b', kind: 'k', payload: new Uint8Array(frame, 64, 4).fill(i) }]);
      return new WeakRef(frame);
    });
    expect(scheduler.plan(() => false).batches).toHaveLength(0);
    await collectGarbage();
    expect(frames.filter((frame) => frame.deref() !== undefined)).toHaveLength(2);
    // All five still come, in order, with their bytes.
    const delivered: number[] = [];
    for (let tick = 0; tick < 3; tick++) {
      for (const envelope of scheduler.plan(all).batches[0]?.envelopes ?? [])
        delivered.push(envelope.payload?.[0] ?? -1);
      scheduler.complete('b', []);
    }
    expect(delivered).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not hold the frame a delayed output came in while it waits', async () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 100, retryLimit: 2 });
    // An output whose bytes are a view into a large frame, as outputs read off a host's frame are.
    const held = ((): WeakRef<ArrayBuffer> => {
      const frame = new ArrayBuffer(1 << 20);
      const payload = new Uint8Array(frame, 1000, 8).fill(7);
      scheduler.stage('a', [{ to: 'a', kind: 'later', payload, delayTicks: 50 }]);
      return new WeakRef(frame);
    })();
    await collectGarbage();
    expect(held.deref()).toBeUndefined();
    // The output still comes, with its bytes, when due.
    scheduler.skipTo(51);
    const envelope = scheduler.plan(all).batches[0]?.envelopes[0];
    expect(envelope).toMatchObject({ kind: 'later', payload: new Uint8Array(8).fill(7) });
  });
});

describe('ordering key', () => {
  it('releases outputs by source rank (name order), then send order, whatever the report order', () => {
    const scheduler = new Scheduler([agent('zed'), agent('amy'), agent('sink')], {
      maxBatch: 100,
      retryLimit: 2,
    });
    scheduler.stage('zed', [out('sink', 'z1'), out('sink', 'z2')]);
    scheduler.stage('amy', [out('sink', 'a1')]);
    scheduler.stage(EXTERNAL, [out('sink', 'x1')]);
    const plan = scheduler.plan(all);
    expect(plan.tick).toBe(1);
    expect(ids(plan, 'sink')).toEqual(['@external#1', 'amy#1', 'zed#1', 'zed#2']);
    const envelope = plan.batches[0]?.envelopes[1];
    expect(envelope).toMatchObject({ from: 'amy', to: 'sink', tick: 1, seq: 1 });
  });

  it('stamps outputs of tick t with tick t+1 and numbers each source on', () => {
    const scheduler = new Scheduler([agent('a'), agent('b')], { maxBatch: 100, retryLimit: 2 });
    scheduler.stage('a', [out('b')]);
    const first = scheduler.plan(all);
    scheduler.complete('b', [out('a'), out('a')]);
    const second = scheduler.plan(all);
    expect(second.tick).toBe(2);
    expect(second.batches[0]?.envelopes.map((e) => [envelopeId(e), e.tick])).toEqual([
      ['b#1', 2],
      ['b#2', 2],
    ]);
    expect(first.tick).toBe(1);
  });

  it('does not start a tick while one is running, and sleeps when nothing is pending', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 100, retryLimit: 2 });
    expect(scheduler.plan(all)).toEqual({
      tick: 0,
      batches: [],
      deadLetters: [],
      rejected: [],
      requests: [],
    });
    scheduler.stage(EXTERNAL, [out('a')]);
    scheduler.plan(all);
    expect(() => scheduler.plan(all)).toThrow(/still running/);
  });

  it('keeps every mailbox in key order when a release without batches leaves the tick as it was', () => {
    // "a" sends to itself and to a full "b"; nobody is eligible, so the tick stays; the rejection
    // notice (from the runtime, which ranks first) is released later with the same tick number.
    const full = { mailbox: 1, overflow: 'reject' as const };
    const s = new Scheduler([agent('a'), agent('b', '*', 1024, full)], { maxBatch: 10, retryLimit: 2 });
    s.stage(EXTERNAL, [out('b', 'fills b')]);
    s.stage('a', [out('a', 'to itself'), out('b', 'refused')]);
    expect(s.plan(() => false).batches).toHaveLength(0);
    const plan = s.plan(all);
    const keys = plan.batches
      .find((batch) => batch.agent === 'a')
      ?.envelopes.map((e) => [e.tick, e.from, e.seq]);
    expect(keys).toEqual([
      [1, RUNTIME, 1],
      [1, 'a', 1],
    ]);
  });
});

describe('batches', () => {
  it('hands out at most maxBatch per agent per tick, the rest next tick', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 2, retryLimit: 2 });
    scheduler.stage(EXTERNAL, [out('a', '1'), out('a', '2'), out('a', '3')]);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#1', '@external#2']);
    scheduler.complete('a', []);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#3']);
  });

  it('keeps mail for agents that are not eligible (e.g. restarting)', () => {
    const scheduler = new Scheduler([agent('a'), agent('b')], { maxBatch: 10, retryLimit: 2 });
    scheduler.stage(EXTERNAL, [out('a'), out('b')]);
    const plan = scheduler.plan((name) => name === 'b');
    expect(plan.batches.map((batch) => batch.agent)).toEqual(['b']);
    expect(scheduler.mailboxDepth('a')).toBe(1);
  });
});

describe('atomic ticks and retries', () => {
  it('a crash puts the batch back in order; a crash from outside charges no attempt', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 10, retryLimit: 0 });
    scheduler.stage(EXTERNAL, [out('a', '1'), out('a', '2')]);
    scheduler.plan(all);
    expect(scheduler.fail('a', undefined, 'killed')).toEqual([]);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#1', '@external#2']);
  });

  it('dead-letters the message that crashed the agent after retryLimit retries, keeping the rest', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 10, retryLimit: 1 });
    scheduler.stage(EXTERNAL, [out('a', 'ok'), out('a', 'poison'), out('a', 'after')]);
    scheduler.plan(all);
    expect(scheduler.fail('a', 1, 'trap: unreachable')).toEqual([]);
    scheduler.plan(all);
    const dead = scheduler.fail('a', 1, 'trap: unreachable');
    expect(dead).toHaveLength(1);
    expect(envelopeId(dead[0]?.envelope ?? {})).toBe('@external#2');
    expect(dead[0]?.reason).toBe('crashed "a" 2 times: trap: unreachable');
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#1', '@external#3']);
  });

  it('a stall (watchdog kill) is narrowed to one envelope, which is charged and dead-lettered', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 10, retryLimit: 1 });
    scheduler.stage(EXTERNAL, [out('a', 'ok'), out('a', 'stalls'), out('a', 'after')]);
    scheduler.plan(all);
    // A batch of three stalled: nothing is charged, and the agent gets one envelope per tick.
    expect(scheduler.stalled('a', 'watchdog')).toEqual([]);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#1']);
    scheduler.complete('a', []);
    // Completing one ends the narrowing; the next batch stalls again and is narrowed again.
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#2', '@external#3']);
    expect(scheduler.stalled('a', 'watchdog')).toEqual([]);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#2']);
    expect(scheduler.stalled('a', 'watchdog')).toEqual([]);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#2']);
    const dead = scheduler.stalled('a', 'watchdog');
    expect(dead.map((letter) => [envelopeId(letter.envelope), letter.reason])).toEqual([
      ['@external#2', 'crashed "a" 2 times: watchdog'],
    ]);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#3']);
  });
});

describe('early finish', () => {
  it('puts the envelopes an agent did not handle back at the front of its mailbox', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 10, retryLimit: 2 });
    scheduler.stage(EXTERNAL, [out('a', '1'), out('a', '2'), out('a', '3')]);
    scheduler.plan(all);
    scheduler.complete('a', [], 1);
    expect(scheduler.mailboxDepth('a')).toBe(2);
    expect(ids(scheduler.plan(all), 'a')).toEqual(['@external#2', '@external#3']);
  });
});

describe('refusals become dead letters', () => {
  it('an address that is not an agent', () => {
    const scheduler = new Scheduler([agent('a')], { maxBatch: 10, retryLimit: 2 });
    scheduler.stage('a', [out('nobody')]);
    const [dead] = scheduler.plan(all).deadLetters;
    expect(dead?.reason).toBe('"a" sent to "nobody", which is not an agent of this system');
  });

  it('an agent outside the sender capabilities', () => {
    const scheduler = new Scheduler([agent('a', ['b']), agent('b'), agent('c')], {
      maxBatch: 10,
      retryLimit: 2,
    });
    scheduler.stage('a', [out('b'), out('c')]);
    const plan = scheduler.plan(all);
    expect(plan.deadLetters.map((dead) => dead.reason)).toEqual([
      '"a" may not send to "c" (not in its capabilities.sendTo)',
    ]);
    expect(ids(plan, 'b')).toEqual(['a#1']);
  });

  it('a payload over the sender maxMessageBytes', () => {
    const scheduler = new Scheduler([agent('a', '*', 4), agent('b')], { maxBatch: 10, retryLimit: 2 });
    scheduler.stage('a', [out('b', 'too long')]);
    expect(scheduler.plan(all).deadLetters[0]?.reason).toBe(
      'payload of 8 bytes exceeds maxMessageBytes 4 of "a"',
    );
  });

  it('mail to a closed agent, now and later', () => {
    const scheduler = new Scheduler([agent('a'), agent('b')], { maxBatch: 10, retryLimit: 2 });
    scheduler.stage('a', [out('b', 'early')]);
    scheduler.plan(() => false);
    expect(scheduler.close('b', 'failed: init trapped')).toHaveLength(1);
    scheduler.stage('a', [out('b', 'late')]);
    expect(scheduler.plan(all).deadLetters[0]?.reason).toBe('"b" is not running: failed: init trapped');
  });
});

describe('bounded mailboxes', () => {
  it('dead-letters what does not fit, with the bound in the reason', () => {
    const scheduler = new Scheduler(
      [agent('a'), agent('b', '*', 1024, { mailbox: 2, overflow: 'dead-letter' })],
      {
        maxBatch: 10,
        retryLimit: 2,
      },
    );
    scheduler.stage('a', [out('b', '1'), out('b', '2'), out('b', '3')]);
    const plan = scheduler.plan(() => false);
    expect(scheduler.mailboxDepth('b')).toBe(2);
    expect(plan.deadLetters.map((dead) => [envelopeId(dead.envelope), dead.reason])).toEqual([
      ['a#3', 'the mailbox of "b" is full (limits.mailbox 2)'],
    ]);
  });

  it('with overflow "reject", sends the sender a notice correlated with its message', () => {
    const scheduler = new Scheduler([agent('a'), agent('b', '*', 1024, { mailbox: 1, overflow: 'reject' })], {
      maxBatch: 10,
      retryLimit: 2,
    });
    scheduler.stage('a', [out('b', '1'), out('b', '2')]);
    const first = scheduler.plan((name) => name === 'a');
    expect(first.rejected.map((r) => envelopeId(r.envelope))).toEqual(['a#2']);
    expect(first.deadLetters).toEqual([]);
    const second = scheduler.plan((name) => name === 'a');
    const notice = second.batches.find((batch) => batch.agent === 'a')?.envelopes[0];
    expect(notice).toMatchObject({ from: '@troupe', to: 'a', kind: REJECTED_KIND, correlationId: 'a#2' });
    expect(new TextDecoder().decode(notice?.payload ?? new Uint8Array())).toContain(
      'is full (limits.mailbox 1)',
    );
  });
});

describe('delayed outputs', () => {
  it('holds a delayed output (a timer) back until its tick; its sequence number is given when sent', () => {
    const scheduler = new Scheduler([agent('a'), agent('b')], { maxBatch: 10, retryLimit: 2 });
    scheduler.stage('a', [
      { to: 'b', kind: 'later', delayTicks: 2 },
      { to: 'b', kind: 'now' },
    ]);
    expect(scheduler.nextSeq('a')).toBe(3);
    const first = scheduler.plan(() => true);
    expect(first.batches.map((batch) => batch.envelopes.map((e) => `${e.kind}#${e.seq}@${e.tick}`))).toEqual([
      ['now#2@1'],
    ]);
    scheduler.complete('b', []);
    expect(scheduler.nextTimer).toBe(3);
    expect(scheduler.plan(() => true).batches).toEqual([]);
    scheduler.skipTo(2);
    const third = scheduler.plan(() => true);
    expect(third.batches.map((batch) => batch.envelopes.map((e) => `${e.kind}#${e.seq}@${e.tick}`))).toEqual([
      ['later#1@3'],
    ]);
    expect(scheduler.nextTimer).toBeUndefined();
  });
});
