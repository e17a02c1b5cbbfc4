// The shared pool's launcher on its own: a killed agent's host sends nothing more to its thread,
// so the thread never hears of an agent it no longer has, and its other agents go on.
import { afterEach, expect, it } from 'vitest';
import { type HostProcess, SharedPoolLauncher } from '../src/launch/index.js';
import { decodeFrame, encodeCommand, encodeDeliverFrame } from '../src/protocol/index.js';
import { agentModule, HOST_ENTRY } from './helpers/paths.js';

const pools: SharedPoolLauncher[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
});

/** The next event of `kind` the host reports, decoded. */
function next(host: HostProcess, kind: 'ready' | 'done' | 'failed'): Promise<unknown> {
  return new Promise((resolve) => {
    host.onFrame((frame) => {
      const decoded = decodeFrame(frame);
      const event = decoded.ok ? decoded.frame.events.find((item) => item[kind]) : undefined;
      if (event) resolve(event[kind]);
    });
  });
}

it('drops what is sent to a killed agent, and its thread and the other agent go on', async () => {
  const pool = new SharedPoolLauncher(1);
  pools.push(pool);
  const [x, y] = ['x', 'y'].map((name) => pool.spawn({ entry: HOST_ENTRY, name }));
  if (!x || !y) throw new Error('no hosts');
  const exits: string[] = [];
  x.onExit((info) => exits.push(`x killed ${info.killed}`));
  y.onExit((info) => exits.push(`y: ${info.stderrTail}`));
  for (const [name, host] of [
    ['x', x],
    ['y', y],
  ] as const) {
    const ready = next(host, 'ready');
    host.send(
      encodeCommand({ agent: name, load: { modulePath: agentModule('echo'), generation: 1, tick: 0 } }),
    );
    await ready;
  }
  // The supervisor may still hand the killed agent a batch before it hears of the exit (both
  // happen in one turn): the thread must never see it.
  x.kill();
  const envelope = {
    from: 'tester',
    to: 'x',
    kind: 'ping',
    payload: new Uint8Array(0),
    correlationId: '',
    tick: 1,
    seq: 1,
  };
  x.send(encodeDeliverFrame('x', { tick: 1, envelopes: [envelope], nextSeq: 1 }));
  const done = next(y, 'done');
  y.send(encodeDeliverFrame('y', { tick: 1, envelopes: [{ ...envelope, to: 'y' }], nextSeq: 1 }));
  expect(await done).toMatchObject({ tick: 1 });
  await new Promise((resolve) => x.onExit(resolve));
  expect(exits).toEqual(['x killed true']);
}, 30_000);
