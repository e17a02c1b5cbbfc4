// The few functions a JavaScript agent's host puts inside its QuickJS sandbox, and the entry the
// SDK hands back. Only the SDK uses these; agents use defineAgent and the context it passes.

/** Installed by the host as the hidden global `__troupe_host` before the agent's code runs. */
export interface HostBridge {
  /** Records an output; returns its envelope id ("<agent>#<seq>"), or throws naming a limit. */
  send(to: string, kind: string, correlationId: string, payload: ArrayBuffer): string;
  log(level: number, text: string): void;
  /** A float in [0, 1) from the agent's seeded stream for this message (or this init). */
  random(): number;
  encodeText(text: string): ArrayBuffer;
  decodeText(bytes: ArrayBuffer): string;
}

/** What the SDK installs as the hidden global `__troupe_agent` when the module defines its agent. */
export interface AgentEntry {
  init(self: string, tick: number, data: ArrayBuffer): void;
  /** Returns true when the agent finished (it called `ctx.finish()`). */
  handle(
    self: string,
    tick: number,
    from: string,
    kind: string,
    id: string,
    correlationId: string,
    payload: ArrayBuffer,
  ): boolean;
}

export const HOST_GLOBAL = '__troupe_host';
export const AGENT_GLOBAL = '__troupe_agent';

export function hostBridge(): HostBridge {
  const host = (globalThis as Record<string, unknown>)[HOST_GLOBAL] as HostBridge | undefined;
  if (!host) throw new Error('troupe/agent runs only inside a Troupe agent host (no __troupe_host here)');
  return host;
}
