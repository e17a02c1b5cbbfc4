// Starting the GPU host process: on this machine, or on a cluster node when one is asked for.
import { fileURLToPath } from 'node:url';
import type { HostProcess, Launcher } from '../../launch/index.js';
import type { ModelSpec } from '../config/index.js';

export interface GpuLaunchOptions {
  launcher: Launcher;
  /** Where the GPU host runs when not here (a cluster node), asked at every (re)start. */
  remote?: (() => Launcher | undefined) | undefined;
  /** Built GPU host entry. Default: dist/gpu-host/gpu-host-main.js beside this module. */
  entry?: string | undefined;
  models: readonly ModelSpec[];
  env?: Record<string, string> | undefined;
}

/** dist/gpu-host/gpu-host-main.js beside this module (a function: bundles that have no import.meta pass `entry`). */
const defaultGpuEntry = () => fileURLToPath(new URL('../../gpu-host/gpu-host-main.js', import.meta.url));

/**
 * The API keys remote models name (`apiKeyEnv`), from this process's environment: the GPU host
 * gets these variables and no other secret (launch/host-env.ts). A node's GPU host gets none.
 */
function apiKeys(models: readonly ModelSpec[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { remote } of models) {
    const value = remote?.apiKeyEnv ? process.env[remote.apiKeyEnv] : undefined;
    if (remote?.apiKeyEnv && value !== undefined) env[remote.apiKeyEnv] = value;
  }
  return env;
}

/** Starts a GPU host; `node` names the cluster node it runs on, when not here. */
export function launchGpuHost(options: GpuLaunchOptions): { host: HostProcess; node?: string } {
  const remote = options.remote?.();
  const host = (remote ?? options.launcher).spawn({
    entry: options.entry ?? defaultGpuEntry(),
    name: 'gpu-host',
    env: { ...apiKeys(options.models), ...options.env },
    gpu: true,
    // The GPU host reads its own code and the declared models' files, nothing else.
    readPaths: options.models.filter((model) => model.path !== '').map((model) => model.path),
  });
  const node = (remote as { node?: string } | undefined)?.node;
  return { host, ...(node ? { node } : {}) };
}
