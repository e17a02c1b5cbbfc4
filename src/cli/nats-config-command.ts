// `troupe nats-config <system.yaml> --nodes a,b --out DIR`: credentials for a cluster on a NATS
// server of the user's own: a user nkey for the coordinator and for each node, and the server's
// `authorization` block admitting each with only its own subjects (docs/cluster.md, Security).
// The folder is made for it, readable by this user alone; nothing is overwritten.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClusterIdentity, clusterKeys, NAME_PATTERN } from '../cluster/index.js';
import { readSystemName } from '../supervisor/index.js';
import { CommandError, UsageError } from './usage-error.js';

export function natsConfigCommand(flags: {
  file: string;
  nodes?: string;
  out?: string;
  jetstream: boolean;
}): number {
  if (!flags.nodes) throw new UsageError('troupe nats-config needs --nodes NAME,NAME,…', 'nats-config');
  if (!flags.out) throw new UsageError('troupe nats-config needs --out DIR, a folder to make', 'nats-config');
  const nodes = flags.nodes.split(',');
  for (const node of nodes)
    if (!NAME_PATTERN.test(node))
      throw new UsageError(
        `--nodes: "${node}" is not a node name (1 to 64 letters, digits, "-" or "_")`,
        'nats-config',
      );
  const repeated = nodes.find((node, i) => nodes.indexOf(node) !== i);
  if (repeated) throw new UsageError(`--nodes names "${repeated}" twice`, 'nats-config');
  const system = readSystemName(flags.file);
  const keys = clusterKeys(system, nodes, { jetstream: flags.jetstream });
  try {
    mkdirSync(flags.out, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CommandError(
      code === 'EEXIST'
        ? `${flags.out} already exists; credentials go in a new folder (nothing was overwritten)`
        : `cannot make ${flags.out}: ${(error as Error).message}`,
    );
  }
  const fileOf = (identity: ClusterIdentity) =>
    identity.role === 'coordinator' ? 'coordinator.nk' : `node-${identity.name}.nk`;
  writeFileSync(join(flags.out, 'authorization.conf'), keys.authorization, { mode: 0o600, flag: 'wx' });
  for (const identity of keys.identities)
    writeFileSync(join(flags.out, fileOf(identity)), `${keys.seed(identity)}\n`, { mode: 0o600, flag: 'wx' });
  process.stdout.write(
    [
      `credentials for "${system}" written to ${flags.out}:`,
      `  authorization.conf  include it in the server's configuration (include ./authorization.conf)`,
      ...keys.identities.map((identity) =>
        identity.role === 'coordinator'
          ? '  coordinator.nk      TROUPE_NATS_NKEY=… troupe cluster … --nats URL'
          : `  ${fileOf(identity).padEnd(18)}  TROUPE_NATS_NKEY=… troupe node … --name ${identity.name} --nats URL`,
      ),
      '',
    ].join('\n'),
  );
  return 0;
}
