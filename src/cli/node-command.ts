// `troupe node <system> --name N --nats URL`: one node of a cluster. It runs the agent hosts the
// coordinator (`troupe cluster`) places on it, until the coordinator tells it to stop or it is
// interrupted. Credentials come from the environment (TROUPE_NATS_TOKEN, TROUPE_NATS_NKEY,
// TROUPE_NATS_SEED, TROUPE_NATS_CREDS).

import { dirname, join } from 'node:path';
import {
  CredentialsError,
  closeNats,
  connectNats,
  inboxPrefix,
  ModelFetcher,
  ModuleFetcher,
  type NatsConnection,
  NodeService,
  watchConnection,
} from '../cluster/index.js';
import { type Launcher, NodeLauncher, SharedPoolLauncher, ThreadLauncher } from '../launch/index.js';
import { errorText } from '../protocol/index.js';
import { defaultModuleCacheDir, type Isolation, ModuleCache, readSystemName } from '../supervisor/index.js';
import { GPU_ENTRY, HOST_ENTRY, onSignals, printLine } from './run-output.js';
import { CommandError } from './usage-error.js';

export interface NodeFlags {
  file: string;
  name: string;
  nats: string;
  json: boolean;
}

export async function nodeCommand(flags: NodeFlags): Promise<number> {
  // Only the system's name: modules come from the coordinator, actor files are its business.
  const system = readSystemName(flags.file);
  const nc = await connect(flags, system);
  const say = (line: object, text: string) => printLine(flags.json, line, text);
  // Threads and a shared pool are started only for agents placed here with that isolation.
  const launchers: Partial<Record<Isolation, Launcher>> = {};
  const launcherFor = (isolation: Isolation): Launcher =>
    (launchers[isolation] ??=
      isolation === 'thread'
        ? new ThreadLauncher()
        : isolation === 'shared'
          ? new SharedPoolLauncher()
          : new NodeLauncher());
  const warn = (line: string) => process.stderr.write(`node ${flags.name}: ${line}\n`);
  const service = new NodeService(nc, {
    cluster: system,
    name: flags.name,
    launcher: launcherFor,
    onHost: (host) =>
      say(
        { type: 'host.started', node: flags.name, ...host },
        `${host.agent}: hosted here (${host.isolation})`,
      ),
    hostEntry: HOST_ENTRY,
    gpuEntry: GPU_ENTRY,
    modules: new ModuleFetcher(nc, system, new ModuleCache(defaultModuleCacheDir(), warn)),
    models: new ModelFetcher(nc, system, join(dirname(defaultModuleCacheDir()), 'models')),
    log: warn,
  });
  // Interrupts stop it gracefully from before it says it is ready (a signal right after "ready"
  // must not find the default handler, which kills).
  const stopOnSignals = onSignals(() => service.stop());
  // A name already live is refused to this process (also later, to the younger of two started
  // at once), naming the live one.
  if (await service.join()) await serve(nc, service, { name: flags.name, system, say });
  stopOnSignals();
  // Nothing keeps this process up now: the parent watch, the shared pool's threads.
  process.stdin.destroy();
  for (const launcher of Object.values(launchers)) launcher.close?.();
  await closeNats(nc);
  if (service.refused !== undefined) throw new CommandError(service.refused);
  say({ type: 'node.stopped', node: flags.name }, `node "${flags.name}" stopped`);
  return 0;
}

/** This node's connection to NATS, as its own user; a failure is said without a stack. */
async function connect(flags: NodeFlags, system: string): Promise<NatsConnection> {
  try {
    return await connectNats(flags.nats, `troupe node ${flags.name}`, {
      inboxPrefix: inboxPrefix(system, { role: 'node', name: flags.name }),
    });
  } catch (error) {
    if (error instanceof CredentialsError) throw new CommandError(error.message);
    throw new CommandError(`cannot reach NATS at ${flags.nats}: ${errorText(error)}`);
  }
}

/** Serves as the node it joined as, until it is stopped (by the coordinator, a signal, its parent). */
async function serve(
  nc: NatsConnection,
  service: NodeService,
  node: { name: string; system: string; say: (line: object, text: string) => void },
): Promise<void> {
  watchConnection(nc, {
    disconnected: () => service.disconnected(),
    reconnected: () => service.reconnected(),
  });
  node.say(
    {
      type: 'node.ready',
      node: node.name,
      system: node.system,
      pid: process.pid,
      incarnation: service.beat.incarnation,
    },
    `node "${node.name}" of "${node.system}" is ready`,
  );
  // Started by `troupe cluster`: its end closes our standard input, and this node ends too.
  if (process.env.TROUPE_NODE_STDIN_PARENT === '1') {
    process.stdin.on('close', () => service.stop());
    process.stdin.on('end', () => service.stop());
    process.stdin.resume();
  }
  await service.done;
}
