// `troupe attach`: a headless system steered from another shell through its dashboard endpoint,
// with the commands the window sends; refusals say why, and a wrong token gets nothing.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllCli, troupe } from './helpers/cli.js';
import { ROOT } from './helpers/paths.js';

afterEach(() => killAllCli());

const HELLO = join(ROOT, 'examples', 'hello', 'hello.system.yaml');

describe('troupe attach', () => {
  it('lists agents and sends pause, step, inject and kill to a running system; refusals say why', async () => {
    const run = troupe(['run', HELLO, '--dashboard', '--json']);
    const { url } = JSON.parse(await run.waitFor(/"type":"dashboard.ready"/)) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    await run.waitFor(/"type":"system.idle"/);

    type Listing = { system: string; paused: boolean; agents: Array<{ name: string; delivered: number }> };
    const list = async (): Promise<Listing> => {
      const listed = await troupe(['attach', url, '--json']).exit;
      expect(listed.code, listed.stderr).toBe(0);
      return JSON.parse(listed.stdout) as Listing;
    };
    const first = await list();
    expect(first.system).toBe('hello');
    expect(first.agents.map((agent) => agent.name)).toEqual(['counter', 'ping', 'pong', 'picky']);
    const delivered = (listing: Listing) =>
      listing.agents.find((agent) => agent.name === 'counter')?.delivered;
    expect(delivered(first)).toBe(20);

    expect((await troupe(['attach', url, 'pause']).exit).stdout).toBe('ok: pause\n');
    await run.waitFor(/"type":"system.paused"/);
    expect((await troupe(['attach', url, 'inject', 'counter', 'get']).exit).stdout).toBe(
      'ok: inject get to counter\n',
    );
    expect((await troupe(['attach', url, 'step']).exit).code).toBe(0);
    // The injected "get" is handled in the stepped tick (the listing catches up within a snapshot).
    let after = await list();
    while (delivered(after) !== 21) after = await list();
    expect(after.paused).toBe(true);
    expect((await troupe(['attach', url, 'kill', 'picky']).exit).code).toBe(0);
    await run.waitFor(/"type":"agent.state","agent":"picky".*"state":"crashed"/);

    const unknown = await troupe(['attach', url, 'kill', 'nobody']).exit;
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('kill: no agent named "nobody"');
    const wrong = await troupe(['attach', url.replace(/token=.*/, 'token=not-the-token')]).exit;
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the dashboard refused: wrong token');
    const usage = await troupe(['attach', url, 'frob']).exit;
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('unknown attach command "frob"');

    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(0);
  }, 60_000);

  it('says when nothing listens at the URL, and when the URL is not a dashboard one', async () => {
    const closed = await troupe(['attach', 'http://127.0.0.1:1/?token=abc']).exit;
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain('cannot reach the dashboard at http://127.0.0.1:1/?token=abc');
    const notUrl = await troupe(['attach', 'dashboard']).exit;
    expect(notUrl.stderr).toContain('"dashboard" is not a URL');
  }, 30_000);
});
