// The `troupe` command as users run it: events, exit codes, graceful interrupts, validation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, killAllCli, parseJsonLines as parse, troupe } from './helpers/cli.js';
import { agentModule, ROOT } from './helpers/paths.js';
import { killAllHosts, removeTempDirs, tempDir } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  killAllHosts();
  removeTempDirs();
});

const HELLO = join(ROOT, 'examples/hello/hello.system.yaml');

describe('troupe run --json', () => {
  it('prints one typed JSON object per line, ending with run.end, and exits 0', async () => {
    const { code, stdout } = await troupe(['run', HELLO, '--until-idle', '--json']).exit;
    expect(code).toBe(0);
    const events = parse(stdout);
    expect(events.every((event) => typeof event.type === 'string')).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent.spawned', agent: 'ping', pid: expect.any(Number) }),
    );
    expect(events).toContainEqual({
      type: 'agent.state',
      agent: 'picky',
      state: 'restarting',
      tick: expect.any(Number),
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'agent.crashed',
        agent: 'picky',
        reason: expect.stringContaining('refusing to handle 13'),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'message.dead',
        agent: 'picky',
        reason: expect.stringContaining('crashed "picky" 3 times'),
      }),
    );
    const end = events.at(-1);
    expect(end).toMatchObject({
      type: 'run.end',
      ok: true,
      ticks: 22,
      delivered: 67,
      trace: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // Every host process is gone once the command has exited.
    for (const event of events.filter((e) => e.type === 'agent.spawned'))
      expect(isAlive(event.pid as number)).toBe(false);
  });

  it('--seed overrides the seed in the file', async () => {
    const { stdout } = await troupe(['run', HELLO, '--until-idle', '--json', '--seed', '9']).exit;
    expect(parse(stdout)[0]).toMatchObject({ type: 'run.start', seed: 9 });
  });

  it('exits non-zero when the system stops on restart intensity', async () => {
    const dir = tempDir();
    const file = join(dir, 'fragile.system.yaml');
    const system = {
      name: 'fragile',
      supervisor: { maxRestarts: 1, periodMs: 60000 },
      agents: [
        {
          name: 'ping',
          module: agentModule('relay'),
          init: 'peer=pong;start=1;limit=20;observer=picky',
          capabilities: { sendTo: ['*'] },
        },
        {
          name: 'pong',
          module: agentModule('relay'),
          init: 'peer=ping;limit=20;observer=picky',
          capabilities: { sendTo: ['*'] },
        },
        { name: 'picky', module: agentModule('picky'), init: 'trapOn=13' },
      ],
    };
    writeFileSync(file, JSON.stringify(system));
    const { code, stdout } = await troupe(['run', file, '--until-idle', '--json', '--root', '/']).exit;
    expect(code).toBe(2);
    expect(parse(stdout).at(-1)).toMatchObject({
      type: 'run.end',
      ok: false,
      reason: expect.stringMatching(
        /restart intensity exceeded: supervisor "fragile".*"picky".*refusing to handle 13/,
      ),
    });
  });
});

describe('troupe run without --until-idle', () => {
  it('stays up idle, waiting for input, until SIGINT stops it gracefully', async () => {
    const run = troupe(['run', HELLO, '--json']);
    await run.waitFor(/"type":"system.idle"/);
    run.child.kill('SIGINT');
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    const events = parse(stdout);
    expect(events.at(-1)).toMatchObject({ type: 'run.end', ok: true, reason: 'interrupted by SIGINT' });
    for (const event of events.filter((e) => e.type === 'agent.spawned'))
      expect(isAlive(event.pid as number)).toBe(false);
  });

  it('Ctrl+C in a terminal (SIGINT to the whole process group) stops it gracefully too', async () => {
    const run = troupe(['run', HELLO, '--json'], { ownGroup: true });
    await run.waitFor(/"type":"system.idle"/);
    process.kill(-(run.child.pid as number), 'SIGINT');
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    const events = parse(stdout);
    const idleAt = events.findIndex((event) => event.type === 'system.idle');
    expect(events.slice(idleAt).filter((event) => event.type === 'agent.crashed')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'run.end', ok: true, reason: 'interrupted by SIGINT' });
  });

  it('SIGTERM stops it the same way', async () => {
    const run = troupe(['run', HELLO, '--json']);
    await run.waitFor(/"type":"system.idle"/);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    expect(parse(stdout).at(-1)).toMatchObject({ reason: 'interrupted by SIGTERM' });
  });
});

describe('troupe run, readable log', () => {
  it('shows agents working, the crash, the restart and the summary', async () => {
    const { code, stdout } = await troupe(['run', HELLO, '--until-idle']).exit;
    expect(code).toBe(0);
    expect(stdout).toMatch(/picky\s+CRASHED: trap: unreachable \(abort: picky: refusing to handle 13\)/);
    expect(stdout).toMatch(/picky\s+is restarting/);
    expect(stdout).toContain('relay: reached hop 20, the last one');
    expect(stdout).toMatch(/run ended: idle/);
    expect(stdout).toMatch(/trace [0-9a-f]{64}/);
  });
});

describe('troupe validate and schema', () => {
  it('validate exits 0 on a good file', async () => {
    const { code, stdout } = await troupe(['validate', HELLO]).exit;
    expect(code).toBe(0);
    expect(stdout).toContain(': ok');
  });

  it('validate bundles TypeScript agents as a run would: the examples pass, a broken import is named', {
    timeout: 60_000,
  }, async () => {
    const tools = await troupe(['validate', join(ROOT, 'examples', 'tools', 'tools.system.yaml')]).exit;
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toContain(': ok');
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, 'broken.ts'), "import { nothing } from './missing';\nexport default nothing;\n");
    writeFileSync(join(dir, 'b.system.yaml'), 'name: b\nagents:\n  - { name: broken, module: broken.ts }\n');
    const broken = await troupe(['validate', join(dir, 'b.system.yaml')]).exit;
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('agent "broken": broken.ts:1:');
    expect(broken.stderr).toContain('Could not resolve "./missing"');
  });

  it('validate exits 1 with file:line, field and value', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, 'x.actor.yaml'), 'name: x\nmodule: ./x.wasm\nrestart: always\n');
    const { code, stderr } = await troupe(['validate', join(dir, 'x.actor.yaml')]).exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /x\.actor\.yaml:3:10: restart: must be one of permanent, transient, temporary \(got "always"\)/,
    );
  });

  it('bad usage exits 1 and says what is wrong', async () => {
    const { code, stderr } = await troupe(['run', HELLO, '--max-ticks', '0']).exit;
    expect(code).toBe(1);
    expect(stderr).toContain('--max-ticks must be a whole number from 1');
  });

  it('schema prints the JSON Schema for editors', async () => {
    const { code, stdout } = await troupe(['schema', 'actor']).exit;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      title: 'Troupe actor file (*.actor.yaml)',
      required: ['name', 'module'],
    });
  });
});
