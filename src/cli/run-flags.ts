// The flags of `troupe run` (and of the commands that run a system), and how they change it.
import type { Isolation, SyncPolicy, SystemSpec } from '../supervisor/index.js';

export interface RunFlags {
  file: string;
  seed?: number;
  /** Every agent's isolation, whatever the files say (a deployment choice: the trace is the same). */
  isolation?: Isolation;
  maxTicks?: number;
  untilIdle: boolean;
  json: boolean;
  root?: string;
  /** Read control commands (JSON lines) from stdin. */
  control: boolean;
  journal?: string;
  journalSync: SyncPolicy;
  /** Continue the run recorded in `journal`: replay it to its last tick, then go on live. */
  resume: boolean;
  force: boolean;
  /** Serve the supervisor window on 127.0.0.1 (port 0: any free one). */
  dashboard: boolean;
  port?: number;
  /** Restart an agent when its module's source changes. */
  watch?: boolean;
}

/** The system as the flags change it: another seed, every agent's isolation. */
export function withFlags(spec: SystemSpec, flags: Pick<RunFlags, 'seed' | 'isolation'>): SystemSpec {
  const { seed, isolation } = flags;
  return {
    ...spec,
    ...(seed === undefined ? {} : { seed }),
    ...(isolation === undefined ? {} : { agents: spec.agents.map((agent) => ({ ...agent, isolation })) }),
  };
}
