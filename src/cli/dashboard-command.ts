// `troupe run <system> --dashboard [--port N]` (and `troupe cluster … --dashboard`): runs the
// system behind the supervisor window's UI, served on 127.0.0.1 with a token; the log goes on in
// the terminal as without the dashboard. A config reloaded from the window runs on the same nodes.
import { fileURLToPath } from 'node:url';
import type { ClusterHosting } from '../cluster/index.js';
import { DashboardSession, startDashboardServer } from '../dashboard/index.js';
import { NodeLauncher } from '../launch/index.js';
import { errorText } from '../protocol/index.js';
import { loadSystem, type RunSummary, Runtime } from '../supervisor/index.js';
import { type RunFlags, withFlags } from './run-flags.js';
import { eventPrinter, HOST_ENTRY, onSignals } from './run-output.js';
import { CommandError } from './usage-error.js';

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));

/** Where a system's hosts run (a cluster's nodes); by default on this machine. */

export async function runDashboard(
  flags: Pick<RunFlags, 'file' | 'root' | 'seed' | 'isolation' | 'maxTicks' | 'untilIdle' | 'json' | 'port'>,
  hosting: ClusterHosting = () => ({}),
  beforeEnd?: () => void,
): Promise<RunSummary> {
  const load = () => withFlags(loadSystem(flags.file, { root: flags.root }), flags);
  const session = new DashboardSession({
    load,
    create: (spec, hooks) => {
      const print = eventPrinter(spec, flags.json, beforeEnd);
      return new Runtime(spec, {
        ...hosting(spec),
        launcher: new NodeLauncher(),
        hostEntry: HOST_ENTRY,
        maxTicks: flags.maxTicks,
        untilIdle: flags.untilIdle,
        onBatch: hooks.onBatch,
        onRequests: hooks.onRequests,
        onEvent: (event) => {
          print(event);
          hooks.onEvent(event);
        },
      });
    },
  });
  session.start();
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    server = await startDashboardServer(session, { uiDir: UI_DIR, port: flags.port });
  } catch (error) {
    session.stop('the dashboard could not start');
    await session.done;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${flags.port} is in use` : errorText(error);
    throw new CommandError(`the dashboard cannot listen on 127.0.0.1: ${why}`);
  }
  const line = flags.json
    ? JSON.stringify({ type: 'dashboard.ready', url: server.url })
    : `dashboard: ${server.url}`;
  process.stdout.write(`${line}\n`);
  const stopOnSignals = onSignals((signal) => session.stop(`interrupted by ${signal}`));
  const summary = await session.done;
  stopOnSignals();
  await server.close();
  return summary;
}
