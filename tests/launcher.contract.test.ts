// The launcher contract, run against every backend that can run here: Node child processes and
// worker threads (Electron needs its binary). The shared pool multiplexes many agents on a thread
// and routes frames by the agent they name, so raw frames are not its contract: isolation.test.ts
// and pool-unload.test.ts hold it to the same promises (start, frames, exits, kills) with real
// agents.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ExitInfo,
  type HostProcess,
  type Launcher,
  NodeLauncher,
  type SpawnOptions,
  ThreadLauncher,
} from '../src/launch/index.js';
import { FIXTURES } from './helpers/paths.js';

const backends: Array<[string, () => Launcher]> = [
  ['node', () => new NodeLauncher()],
  ['thread', () => new ThreadLauncher()],
];
const host = (name: string) => join(FIXTURES, 'hosts', name);
const text = (frame: unknown) => new TextDecoder().decode(frame as Uint8Array);

describe.each(backends)('launcher contract: %s backend', (name, makeLauncher) => {
  const started: HostProcess[] = [];
  const spawn = (entry: string) => {
    const child = makeLauncher().spawn({ entry, name: 'contract' });
    started.push(child);
    return child;
  };
  const nextFrame = (child: HostProcess) => new Promise<unknown>((resolve) => child.onFrame(resolve));
  const exited = (child: HostProcess) => new Promise<ExitInfo>((resolve) => child.onExit(resolve));

  afterEach(() => {
    for (const child of started.splice(0)) child.kill();
  });

  it('spawns a process that speaks first, with its name in the environment', async () => {
    const child = spawn(host('echo-frames.mjs'));
    // A thread has no process id of its own.
    if (name === 'thread') expect(child.pid).toBeUndefined();
    else expect(child.pid).toBeGreaterThan(0);
    expect(text(await nextFrame(child))).toBe('hello from contract');
  });

  it('carries binary frames both ways, byte for byte', async () => {
    const child = spawn(host('echo-frames.mjs'));
    await nextFrame(child);
    const frame = Uint8Array.from({ length: 256 }, (_, i) => i);
    const answer = nextFrame(child);
    child.send(frame);
    expect([...((await answer) as Uint8Array)]).toEqual([...frame].reverse());
  });

  it('reports the exit code of a process that exits', async () => {
    const child = spawn(host('echo-frames.mjs'));
    await nextFrame(child);
    const exit = exited(child);
    child.send(new TextEncoder().encode('exit:7'));
    expect(await exit).toMatchObject({ code: 7, killed: false });
  });

  it('kills a process and says it was killed', async () => {
    const child = spawn(host('echo-frames.mjs'));
    await nextFrame(child);
    const exit = exited(child);
    child.kill();
    expect(await exit).toMatchObject({ killed: true });
  });

  it('reports a child that dies on start, quoting its stderr', async () => {
    const info = await exited(spawn(host('die-on-start.mjs')));
    expect(info.code).not.toBe(0);
    expect(info.stderrTail).toContain('boom: this host cannot start');
  });

  it('reports a missing entry as an exit, not an exception', async () => {
    const info = await exited(spawn(host('no-such-host.mjs')));
    expect(info.code).not.toBe(0);
    expect(info.stderrTail).toMatch(/Cannot find module|no-such-host/);
  });

  it('calls an exit listener added after the exit', async () => {
    const child = spawn(host('die-on-start.mjs'));
    const first = await exited(child);
    expect(await exited(child)).toBe(first);
  });
});

describe('node backend: what a host process is given', () => {
  const started: HostProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) child.kill();
    delete process.env.TROUPE_PROBE_SECRET;
  });
  const probe = async (options: Partial<SpawnOptions>) => {
    const given = join(FIXTURES, 'hosts', 'stubborn.mjs');
    const child = new NodeLauncher().spawn({
      entry: host('probe-permissions.mjs'),
      name: 'probe',
      env: { PROBE_OUTSIDE_FILE: '/etc/hostname', PROBE_GIVEN_FILE: given },
      ...options,
    });
    started.push(child);
    const frame = await new Promise<unknown>((resolve) => child.onFrame(resolve));
    return JSON.parse(text(frame)) as Record<string, unknown>;
  };

  it('passes on only an allow-listed environment: no secret of the parent reaches the host', async () => {
    process.env.TROUPE_PROBE_SECRET = 'do-not-leak';
    const report = await probe({});
    expect(report.env).toEqual([
      'PROBE_GIVEN_FILE',
      'PROBE_OUTSIDE_FILE',
      'TROUPE_CHANNEL_FD',
      'TROUPE_HOST_NAME',
    ]);
  });

  it('with read paths, runs the host under the permission model: its code and those paths only', async () => {
    const report = await probe({ readPaths: [join(FIXTURES, 'hosts', 'stubborn.mjs')] });
    expect(report).toMatchObject({
      readOutside: 'ERR_ACCESS_DENIED',
      readGiven: 'allowed',
      childProcess: 'ERR_ACCESS_DENIED',
      worker: 'ERR_ACCESS_DENIED',
      eval: expect.stringMatching(/Code generation from strings disallowed/),
    });
  });

  it('lets the GPU host start worker threads (its sessions run in them)', async () => {
    const report = await probe({ readPaths: [], gpu: true });
    expect(report).toMatchObject({
      readOutside: 'ERR_ACCESS_DENIED',
      worker: 'allowed',
      childProcess: 'ERR_ACCESS_DENIED',
    });
  });
});
