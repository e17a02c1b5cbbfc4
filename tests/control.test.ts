// Dead letters are kept, listed and re-injected, through `troupe run --control`.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseControl } from '../src/cli/control.js';
import { killAllCli, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';
import { killAllHosts } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
});

describe('control command parsing', () => {
  it('accepts each command', () => {
    expect(parseControl('{"op":"reinject","id":"pong#13"}')).toEqual({ op: 'reinject', id: 'pong#13' });
    expect(parseControl('{"op":"inject","to":"a","kind":"k","text":"hi"}')).toEqual({
      op: 'inject',
      to: 'a',
      kind: 'k',
      payload: new TextEncoder().encode('hi'),
    });
    expect(parseControl('{"op":"inject","to":"a","kind":"k","base64":"AAE="}')).toMatchObject({
      payload: Buffer.from([0, 1]),
    });
    expect(parseControl('{"op":"stop"}')).toEqual({ op: 'stop' });
  });

  it('refuses bad input, naming what is wrong', () => {
    expect(parseControl('not json')).toMatchObject({ error: expect.stringMatching(/^not JSON/) });
    expect(parseControl('[1]')).toEqual({ error: 'expected a JSON object' });
    expect(parseControl('{"op":"fly"}')).toEqual({
      error: 'unknown op "fly" (inject, reinject, dead-letters, kill, stop)',
    });
    expect(parseControl('{"op":"kill"}')).toEqual({ error: '"kill" needs a non-empty string "agent"' });
  });
});

describe('troupe run --control', () => {
  const start = async () => {
    const run = troupe(['run', join(ROOT, 'examples/hello/hello.system.yaml'), '--json', '--control'], {
      stdin: true,
    });
    const send = (command: object) => run.child.stdin?.write(`${JSON.stringify(command)}\n`);
    await run.waitFor(/"type":"system.idle"/);
    return { run, send };
  };

  it('says it reads commands, echoes each one it accepts, lists dead letters, refuses bad ones, stops on request', async () => {
    const { run, send } = await start();
    const ready = JSON.parse(await run.waitFor(/"type":"control.ready"/));
    expect(ready.help).toContain('{"op":"inject"');
    send({ op: 'kill', agent: 'counter' });
    await run.waitFor(/"type":"control.ok","command":"\{\\"op\\":\\"kill\\",\\"agent\\":\\"counter\\"\}"/);
    send({ op: 'dead-letters' });
    const listed = JSON.parse(await run.waitFor(/"type":"dead-letters"/));
    expect(listed.letters).toEqual([expect.objectContaining({ id: 'pong#13', to: 'picky', kind: 'hop' })]);
    send({ op: 'inject', to: 'nobody', kind: 'k', text: 'x' });
    await run.waitFor(/"type":"control.error".*no agent named \\"nobody\\"/);
    send({ op: 'reinject', id: 'ping#999' });
    await run.waitFor(/"type":"control.error".*no dead letter with id \\"ping#999\\" is kept/);
    send({ op: 'stop' });
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').at(-1)).toContain('"reason":"stopped by a control command"');
  });

  it('re-injects a dead letter; a message that still crashes its agent is dead again', async () => {
    const { run, send } = await start();
    send({ op: 'reinject', id: 'pong#13' });
    await run.waitFor(/"type":"message.reinjected","id":"pong#13"/);
    const dead = JSON.parse(await run.waitFor(/"type":"message.dead".*"tick":(?!17)/));
    expect(dead).toMatchObject({
      agent: 'picky',
      from: 'pong',
      kind: 'hop',
      reason: expect.stringContaining('refusing to handle 13'),
    });
    // Three more crashes take hello's root supervisor past its intensity (5 within 10 s).
    const { code, stdout } = await run.exit;
    expect(code).toBe(2);
    expect(stdout.trim().split('\n').at(-1)).toContain('restart intensity exceeded');
  });
});
