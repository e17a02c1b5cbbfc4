// The relay observed by picky (which traps on hop 13) that the journal tests record and replay,
// with its modules copied into a temporary folder so a test can swap one.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Isolation, SystemSpec } from '../../src/supervisor/index.js';
import { agentModule } from './paths.js';
import { tempDir, writeSystem } from './system.js';

export function relaySystem(limit: number, isolation?: Isolation): SystemSpec {
  const dir = tempDir();
  const copy = (name: string) => {
    const path = join(dir, `${name}.wasm`);
    copyFileSync(agentModule(name), path);
    return path;
  };
  const relay = copy('relay');
  return writeSystem({
    maxRestarts: 20,
    isolation,
    agents: [
      {
        name: 'ping',
        module: relay,
        init: `peer=pong;start=1;limit=${limit};observer=picky;counter=counter`,
      },
      { name: 'pong', module: relay, init: `peer=ping;limit=${limit};observer=picky;counter=counter` },
      { name: 'picky', module: copy('picky'), init: 'counter=counter;trapOn=13' },
      { name: 'counter', module: copy('counter') },
    ],
  });
}
