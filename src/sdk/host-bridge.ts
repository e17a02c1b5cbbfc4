// The few functions a JavaScript agent's host puts inside its QuickJS sandbox, and the entry the
// SDK hands back. Only the SDK uses these; agents use defineAgent and the context it passes.
// A batch goes in with one call and a message's sends come out with one (src/sdk/blocks.ts), so
// the cost of crossing between the host and QuickJS is paid per batch and per message, not per field.

/** Installed by the host as the hidden global `__troupe_host` before the agent's code runs. */
export interface HostBridge {
  /**
   * The control block (CONTROL_WORDS int32s, made by the host's prelude): the SDK writes at
   * CONTROL_INDEX which message of the batch is running, and the host reads it in the sandbox's
   * memory (for that message's fuel budget, random stream and send count), so a message starts
   * without a call to the host. The host counts only increasing indices, up to the batch's size.
   */
  readonly control: Int32Array;
  /** The sends since the last flush (OutputBuffer framing); throws naming a limit they break. */
  flush(outputs: ArrayBuffer): void;
  log(level: number, text: string): void;
  /** A float in [0, 1) from the agent's seeded stream for this message (or this init). */
  random(): number;
}

/** What the SDK installs as the hidden global `__troupe_agent` when the module defines its agent. */
export interface AgentEntry {
  /** `nextSeq`: the sequence number of the first message sent (its id is "<self>#<nextSeq>"). */
  init(self: string, tick: number, nextSeq: number, data: ArrayBuffer): void;
  /** Handles `count` messages; returns 2 × handled, plus 1 when the agent finished. */
  handle(self: string, tick: number, nextSeq: number, batch: ArrayBuffer, count: number): number;
}

/** The control block: [MARK, MARK ^ MIX, the running message's index (-1: none), MARK + MIX]. */
export const CONTROL_WORDS = 4;
export const CONTROL_MARK = 0x54727570;
export const CONTROL_MIX = 0x5a17c3e9;
/** Where in the control block the running message's index is. */
export const CONTROL_INDEX = 2;

export const HOST_GLOBAL = '__troupe_host';
export const AGENT_GLOBAL = '__troupe_agent';

export function hostBridge(): HostBridge {
  const host = (globalThis as Record<string, unknown>)[HOST_GLOBAL] as HostBridge | undefined;
  if (!host) throw new Error('troupe/agent runs only inside a Troupe agent host (no __troupe_host here)');
  return host;
}
