// A long run for cluster tests: ping and pong relay `limit` hops between east and west, picky
// (on south) traps once on the way, the counter runs on the coordinator's machine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentModule } from './paths.js';
import { tempDir } from './system.js';

export function longClusterSystem(options: { name: string; seed: number; limit: number }): string {
  const file = join(tempDir(), 'long.system.yaml');
  const agent = (name: string, module: string, init: string, placement?: string) => ({
    name,
    module: agentModule(module),
    init,
    ...(placement ? { placement } : {}),
    capabilities: { sendTo: ['*'] },
  });
  const { limit } = options;
  writeFileSync(
    file,
    JSON.stringify({
      name: options.name,
      seed: options.seed,
      agents: [
        agent('ping', 'relay', `peer=pong;start=1;limit=${limit};observer=picky;counter=counter`, 'east'),
        agent('pong', 'relay', `peer=ping;limit=${limit};observer=picky;counter=counter`, 'west'),
        agent('picky', 'picky', 'counter=counter;trapOn=600', 'south'),
        agent('counter', 'counter', ''),
      ],
    }),
  );
  return file;
}
