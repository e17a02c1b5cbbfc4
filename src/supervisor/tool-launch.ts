// Starting the tool host process (issue 28): under the permission model, reading only its own
// code, allowed to start the MCP servers (child processes).
import { fileURLToPath } from 'node:url';
import type { HostProcess, Launcher } from '../launch/index.js';

/** dist/tool-host/tool-host-main.js beside this module (a function: bundles without import.meta pass `entry`). */
const defaultToolEntry = () => fileURLToPath(new URL('../tool-host/tool-host-main.js', import.meta.url));

export function launchToolHost(options: {
  launcher: Launcher;
  entry?: string | undefined;
  env?: Record<string, string> | undefined;
}): HostProcess {
  return options.launcher.spawn({
    entry: options.entry ?? defaultToolEntry(),
    name: 'tool-host',
    env: options.env,
    tools: true,
    readPaths: [],
  });
}
