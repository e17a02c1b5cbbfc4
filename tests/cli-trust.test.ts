// Operator tools treat what they show and read as untrusted (issue 26): a journal's header names
// the system file replay and inspect load, so the file is used only inside the current folder
// (or given with --system), the tools say which one they use, and a file that is not a system is
// refused without being quoted; a damaged journal is refused by its reason alone.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalWriter, journalHeader } from '../src/supervisor/index.js';
import { killAllCli, troupe } from './helpers/cli.js';
import { agentModule } from './helpers/paths.js';
import { removeTempDirs, TEMP_ROOT, tempDir, writeSystem } from './helpers/system.js';

afterEach(() => {
  killAllCli();
  removeTempDirs();
});

describe('the system file a journal names', () => {
  it('is used only inside the current folder, and said; another one needs --system', async () => {
    const spec = writeSystem({
      agents: [
        { name: 'ping', module: agentModule('relay'), init: 'peer=pong;start=1;limit=20' },
        { name: 'pong', module: agentModule('relay'), init: 'peer=ping;limit=20' },
      ],
    });
    const journal = join(tempDir(), 'run.journal');
    const recorded = await troupe(['run', spec.file, '--root', '/', '--until-idle', '--journal', journal])
      .exit;
    expect(recorded.code, recorded.stderr).toBe(0);
    // From another folder (this repository), the journal's system is refused, by name.
    const elsewhere = await troupe(['replay', journal, '--root', '/']).exit;
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toBe(
      `troupe: ${journal} names the system file ${spec.file}, outside this folder (${process.cwd()}); give it with --system to use it\n`,
    );
    // Given on the command line, it is used.
    const given = await troupe(['replay', journal, '--root', '/', '--system', spec.file]).exit;
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toContain('replay ok: ');
    // From a folder holding it, it is used, and the tools say so.
    const inside = await troupe(['replay', journal, '--root', '/'], { cwd: TEMP_ROOT }).exit;
    expect(inside.code, inside.stderr).toBe(0);
    expect(inside.stderr).toBe(`troupe: using the system file ${spec.file}, as ${journal} names it\n`);
    const tick = await troupe(['inspect', journal, '--tick', '1', '--root', '/'], { cwd: TEMP_ROOT }).exit;
    expect(tick.code, tick.stderr).toBe(0);
    expect(tick.stderr).toContain(`using the system file ${spec.file}, as ${journal} names it`);
  }, 60_000);

  it('that is not a system is refused without quoting it (a header naming /etc/passwd)', async () => {
    const spec = writeSystem({ agents: [{ name: 'echo', module: agentModule('echo') }] });
    const journal = join(tempDir(), 'forged.journal');
    const writer = new JournalWriter(journal, 'tick');
    const header = journalHeader(spec, 'test');
    writer.write({ ...header, header: { ...header.header, systemFile: '/etc/passwd' } });
    writer.close();
    const refused = await troupe(['replay', journal, '--json'], { cwd: '/' }).exit;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `troupe: using the system file /etc/passwd, as ${journal} names it\ntroupe: ${journal} names the system file /etc/passwd, which is not a valid Troupe system (troupe validate /etc/passwd says why); give one with --system\n`,
    );
    expect(refused.stderr).not.toContain('root:');
    expect(refused.stdout).toBe('');
  }, 30_000);
});
