// Checks a frame from an agent host before anything in it is believed: it must decode, carry only
// events, speak only for the agent that host serves, and stay within what the agent's sandbox
// allows (log lines, outputs, reasons, snapshots). A host that sends more than its sandbox would
// have let through was compromised or is broken: the frame is refused and the host is at fault.
import { HOST_LIMITS } from '../../abi/index.js';
import { decodeFrame, type HostEvent, type Output } from '../../protocol/index.js';
import type { AgentLimits } from '../config/index.js';

export type HostFrameCheck = { ok: true; events: HostEvent[] } | { ok: false; error: string };

const PAGE = 65536;
/** A snapshot's header and globals, besides the deflated memory (deflate adds < 0.1%). */
const SNAPSHOT_SLACK = 1024 * 1024;
/** State hashes are 8 bytes (journal checkpoints). */
const STATE_HASH_BYTES = 8;

/** The largest snapshot an agent with these limits can produce. */
export function snapshotLimit(limits: Pick<AgentLimits, 'memoryPages'>): number {
  return Math.ceil(limits.memoryPages * PAGE * 1.001) + SNAPSHOT_SLACK;
}

/**
 * The largest frame an agent host may send, checked from the frame's length prefix before it is
 * buffered: a tick's outputs and logs at their limits, a snapshot, and room for the encoding.
 */
export function hostFrameLimit(limits: Pick<AgentLimits, 'memoryPages'>): number {
  const logs = (HOST_LIMITS.logLinesPerTick + 1) * (HOST_LIMITS.logLineBytes + 32);
  return HOST_LIMITS.outputBytesPerTick + snapshotLimit(limits) + logs + HOST_LIMITS.reasonBytes + 64 * 1024;
}

/** What the supervisor knows when a frame arrives: the agent's limits and its batch in flight. */
export interface HostFrameContext {
  agent: string;
  limits: Pick<AgentLimits, 'memoryPages' | 'maxMessageBytes' | 'maxSendsPerMessage'>;
  /** Envelopes in the agent's batch in flight (0 when it holds none). */
  batch: number;
  /** Log lines this host already reported for the tick in flight. */
  logLines: number;
}

export function checkHostFrame(bytes: unknown, context: HostFrameContext): HostFrameCheck {
  const decoded = decodeFrame(bytes);
  if (!decoded.ok) return decoded;
  if (decoded.frame.commands.length > 0) return { ok: false, error: 'a host may not send commands' };
  let logLines = context.logLines;
  for (const event of decoded.frame.events) {
    if (event.agent !== context.agent) return { ok: false, error: `event names agent "${event.agent}"` };
    if (event.log) logLines++;
    const problem = eventProblem(event, context, logLines);
    if (problem) return { ok: false, error: problem };
  }
  return { ok: true, events: decoded.frame.events };
}

function eventProblem(event: HostEvent, context: HostFrameContext, logLines: number): string | undefined {
  const { limits } = context;
  if (event.log) {
    // One more line says how many were dropped.
    if (logLines > HOST_LIMITS.logLinesPerTick + 1)
      return `more than ${HOST_LIMITS.logLinesPerTick} log lines in one tick`;
    return tooLong('a log line', event.log.text, HOST_LIMITS.logLineBytes);
  }
  const reason = event.failed?.reason ?? event.loadFailed?.reason;
  if (reason) return tooLong('a failure reason', reason, HOST_LIMITS.reasonBytes);
  if (event.ready) return outputsProblem(event.ready.outputs ?? [], 1, limits);
  if (event.done) {
    const sends = Math.max(context.batch, 1);
    const outputs = outputsProblem(event.done.outputs ?? [], sends, limits);
    if (outputs) return outputs;
    const snapshot = event.done.snapshot?.length ?? 0;
    if (snapshot > snapshotLimit(limits))
      return `a snapshot of ${snapshot} bytes, above ${snapshotLimit(limits)} for ${limits.memoryPages} pages of memory`;
    const hash = event.done.stateHash?.length ?? 0;
    if (hash > STATE_HASH_BYTES) return `a state hash of ${hash} bytes`;
  }
  return undefined;
}

function outputsProblem(
  outputs: readonly Output[],
  calls: number,
  limits: HostFrameContext['limits'],
): string | undefined {
  const most = calls * limits.maxSendsPerMessage;
  if (outputs.length > most)
    return `${outputs.length} messages sent for ${calls} handled, above limits.maxSendsPerMessage ${limits.maxSendsPerMessage} each`;
  let total = 0;
  for (const output of outputs) {
    const size = output.payload?.length ?? 0;
    if ((output.delayTicks ?? 0) > HOST_LIMITS.maxDelayTicks)
      return `a message delayed ${output.delayTicks} ticks, above ${HOST_LIMITS.maxDelayTicks}`;
    if (size > limits.maxMessageBytes)
      return `a message of ${size} bytes, above limits.maxMessageBytes ${limits.maxMessageBytes}`;
    total += size;
  }
  if (total > HOST_LIMITS.outputBytesPerTick)
    return `${total} bytes sent in one tick, above ${HOST_LIMITS.outputBytesPerTick}`;
  return undefined;
}

function tooLong(what: string, text: string | null | undefined, limit: number): string | undefined {
  const bytes = Buffer.byteLength(text ?? '');
  return bytes > limit ? `${what} of ${bytes} bytes, above ${limit}` : undefined;
}
