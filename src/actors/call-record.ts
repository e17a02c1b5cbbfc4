// What one call into an agent produced (its outputs and log lines), kept within the limits of
// docs/abi.md whatever the agent's language: both sandboxes record through this.

import { FATAL, HOST_LIMITS, OUTPUT_OVERHEAD } from '../abi/index.js';
import type { Output } from '../protocol/index.js';

export interface LogRecord {
  level: number;
  text: string;
}

export interface OutputLimits {
  maxMessageBytes: number;
  maxSendsPerMessage: number;
}

/** An agent broke one of its limits; thrown from a host function, so the agent's call unwinds. */
export class LimitBreach extends Error {}

export class CallRecord {
  outputs: Output[] = [];
  /** The text of the agent's last fatal log line in this call (its abort reason). */
  lastFatal: string | undefined;
  #outputBytes = 0;
  #sendsThisMessage = 0;
  #logs: LogRecord[] = [];
  #droppedLogs = 0;

  /** A new tick (or init): nothing recorded yet. */
  begin(): void {
    this.outputs = [];
    this.#outputBytes = 0;
    this.#sendsThisMessage = 0;
    this.#logs = [];
    this.#droppedLogs = 0;
    this.lastFatal = undefined;
  }

  /** A new message within the call: its own count of sends. */
  nextMessage(): void {
    this.#sendsThisMessage = 0;
  }

  /** Records an output, or throws LimitBreach naming the limit it breaks. */
  send(output: Output, limits: OutputLimits): void {
    const size = output.payload?.length ?? 0;
    const delay = output.delayTicks ?? 0;
    if (!Number.isInteger(delay) || delay < 0 || delay > HOST_LIMITS.maxDelayTicks) {
      throw new LimitBreach(
        `a message to "${output.to}" delayed ${delay} ticks: a delay is 0 to ${HOST_LIMITS.maxDelayTicks} ticks`,
      );
    }
    if (size > limits.maxMessageBytes) {
      throw new LimitBreach(
        `sent ${size} bytes to "${output.to}", above limits.maxMessageBytes ${limits.maxMessageBytes}`,
      );
    }
    if (++this.#sendsThisMessage > limits.maxSendsPerMessage) {
      throw new LimitBreach(
        `sent more than limits.maxSendsPerMessage ${limits.maxSendsPerMessage} messages for one message`,
      );
    }
    this.#outputBytes += outputBytes(output);
    if (this.#outputBytes > HOST_LIMITS.outputBytesPerTick) {
      throw new LimitBreach(`sent more than ${HOST_LIMITS.outputBytesPerTick} bytes in one tick`);
    }
    this.outputs.push(output);
  }

  log(level: number, text: string): void {
    if (level >= FATAL) this.lastFatal = text;
    if (this.#logs.length < HOST_LIMITS.logLinesPerTick) this.#logs.push({ level, text });
    else this.#droppedLogs++;
  }

  /** The call's log lines, with a count of those dropped past the limit. */
  takeLogs(): LogRecord[] {
    if (this.#droppedLogs > 0)
      this.#logs.push({ level: 2, text: `(${this.#droppedLogs} more log lines dropped)` });
    return this.#logs;
  }
}

/** Bytes an output counts toward HOST_LIMITS.outputBytesPerTick (the supervisor counts the same). */
export function outputBytes(output: Output): number {
  const text = (value: string | null | undefined) => Buffer.byteLength(value ?? '');
  return (
    (output.payload?.length ?? 0) +
    text(output.to) +
    text(output.kind) +
    text(output.correlationId) +
    OUTPUT_OVERHEAD
  );
}

/** The text, cut to at most `bytes` bytes of UTF-8 (on a character boundary) with a note. */
export function cutText(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  const note = ' …(cut)';
  let cut = Buffer.from(text)
    .subarray(0, bytes - Buffer.byteLength(note))
    .toString('utf8');
  // A character split at the cut decodes as U+FFFD: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}${note}`;
}
