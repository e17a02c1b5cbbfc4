// One agent's WASM instance: the ABI v1 imports, and init/handle with failures returned as data.

import {
  ABI_MODULE,
  GLOBAL_EXPORT_PREFIX,
  HANDLE_CONTINUE,
  HANDLE_FINISHED,
  HOST_LIMITS,
  messageRandom,
  SEND_MALFORMED,
  SEND_OK,
  tickRandom,
} from '../abi/index.js';
import { type Envelope, envelopeId, errorText, type Output } from '../protocol/index.js';
import { CallRecord, cutText, LimitBreach, type LogRecord } from './call-record.js';
import {
  type RestoreResult,
  restoreSnapshot,
  type SnapshotTarget,
  stateHash,
  takeSnapshot,
} from './snapshot.js';
import { WasmMemory } from './wasm-memory.js';

export type RunResult =
  | { ok: true; outputs: Output[]; logs: LogRecord[]; finished: boolean; handled: number; usage: Usage }
  | { ok: false; index: number; reason: string; logs: LogRecord[] };

/** What a call used of the sandbox's limits: for the window's agent view, not for decisions. */
export interface Usage {
  /** The most fuel one init or handle call of the batch used (0 when the module is not metered). */
  fuelUsed: number;
  /** The instance's memory after the batch, in 64 KiB pages. */
  memoryPages: number;
}

export interface SandboxLimits {
  /** Fuel per init or handle call; 0 when the module is not metered. */
  fuel: number;
  maxMessageBytes: number;
  maxSendsPerMessage: number;
  memoryPages: number;
}

interface AgentExports {
  memory: WebAssembly.Memory;
  __troupe_fuel?: WebAssembly.Global;
  /** The module's own start function, deferred by the meter so it runs with a budget. */
  __troupe_start?: () => void;
  troupe_alloc(size: number): number;
  troupe_init(ptr: number, len: number): number;
  troupe_handle(ptr: number, len: number): number;
}

const EMPTY = new Uint8Array(0);

/** The budget when limits.fuel is 0: the meter's counter at its largest. */
const UNMETERED = 0x7fffffff;

/** For tests and tools that run a module without limits. */
export const NO_LIMITS: SandboxLimits = {
  fuel: 0,
  maxMessageBytes: Number.MAX_SAFE_INTEGER,
  maxSendsPerMessage: Number.MAX_SAFE_INTEGER,
  memoryPages: 65536,
};

/**
 * One agent's instance, whatever its language: the host loads, runs and snapshots agents through
 * this. `nextSeq` is the sequence number the call's first output will get (its id is
 * "<agent>#<nextSeq>"), so an SDK can tell the agent the ids of what it sends.
 */
export interface Sandbox {
  start(tick: number): RunResult;
  init(data: Uint8Array, tick: number, nextSeq?: number): RunResult;
  handle(envelopes: readonly Envelope[], tick: number, nextSeq?: number): RunResult;
  snapshot(moduleHash: Uint8Array): Uint8Array;
  stateHash(): Uint8Array;
  restore(bytes: Uint8Array, moduleHash: Uint8Array): RestoreResult;
}

export class AgentSandbox implements Sandbox {
  readonly #seed: number;
  readonly #limits: SandboxLimits;
  #exports!: AgentExports;
  #memory!: WasmMemory;
  #tick = 0;
  /** The stream `random` draws from, made on the first draw (most calls draw nothing). */
  #random: (() => number) | undefined;
  /** The id of the message being handled, whose stream `random` draws from (else the tick's). */
  #randomMessage: string | undefined;
  readonly #record = new CallRecord();
  #name = '';
  #nextSeq = 1;
  #fuelMost = 0;
  /** The correlation id of the message being handled ("" in init). */
  #correlation = '';

  private constructor(seed: number, limits: SandboxLimits) {
    this.#seed = seed;
    this.#limits = limits;
  }

  /** Instantiates a module already checked by compileAgentModule. */
  static instantiate(
    module: WebAssembly.Module,
    seed: number,
    limits: SandboxLimits = NO_LIMITS,
    name = '',
  ): AgentSandbox {
    const sandbox = new AgentSandbox(seed, limits);
    sandbox.#name = name;
    const instance = new WebAssembly.Instance(module, { [ABI_MODULE]: sandbox.#imports() });
    sandbox.#exports = instance.exports as unknown as AgentExports;
    sandbox.#memory = new WasmMemory(sandbox.#exports.memory);
    return sandbox;
  }

  /**
   * Runs the module's start function, when it has one, with the fuel of one call: it ran at
   * instantiation before the meter deferred it. Call once, right after instantiate.
   */
  start(tick: number): RunResult {
    this.#begin(tick);
    const start = this.#exports.__troupe_start;
    if (!start) return this.#succeed(false, 0);
    try {
      this.#refuel();
      start();
    } catch (error) {
      return this.#fail(0, `in its start function: ${this.#describe(error)}`);
    }
    return this.#succeed(false, 0);
  }

  init(data: Uint8Array, tick: number, nextSeq = 1): RunResult {
    this.#begin(tick);
    this.#nextSeq = nextSeq;
    try {
      // The budget covers troupe_alloc too: no code of the agent runs without fuel.
      this.#refuel();
      const ptr = this.#place(data.length);
      this.#memory.writeBytes(ptr, data);
      const status = this.#exports.troupe_init(ptr, data.length);
      this.#countFuel();
      if (status !== 0) return this.#fail(0, `troupe_init returned ${status}`);
    } catch (error) {
      return this.#fail(0, this.#describe(error));
    }
    return this.#succeed(false, 0);
  }

  handle(envelopes: readonly Envelope[], tick: number, nextSeq = 1): RunResult {
    this.#begin(tick);
    this.#nextSeq = nextSeq;
    let finished = false;
    let handled = 0;
    for (let index = 0; index < envelopes.length && !finished; index++) {
      const envelope = envelopes[index] as Envelope;
      try {
        const id = envelopeId(envelope);
        const strings = [envelope.from ?? '', envelope.kind ?? '', id];
        const payload = envelope.payload ?? EMPTY;
        this.#random = undefined;
        this.#randomMessage = id;
        this.#correlation = envelope.correlationId ?? '';
        this.#refuel();
        const ptr = this.#place(WasmMemory.blockBound(strings, payload));
        const size = this.#memory.writeBlock(ptr, strings, payload);
        const status = this.#exports.troupe_handle(ptr, size);
        this.#countFuel();
        if (status !== HANDLE_CONTINUE && status !== HANDLE_FINISHED) {
          return this.#fail(index, `troupe_handle returned ${status} (0 continues, 1 finishes)`);
        }
        finished = status === HANDLE_FINISHED;
        handled++;
      } catch (error) {
        return this.#fail(index, this.#describe(error));
      }
    }
    return this.#succeed(finished, handled);
  }

  #imports(): Record<string, (...args: never[]) => unknown> {
    return {
      send: (ptr: number, len: number): number => this.#send(ptr, len, 0),
      send_delayed: (delay: number, ptr: number, len: number): number => this.#send(ptr, len, delay),
      log: (level: number, ptr: number, len: number): void => {
        const max = HOST_LIMITS.logLineBytes;
        // A longer line is read only up to the limit (the extra character forces the cut note).
        const text =
          len <= max ? this.#memory.readText(ptr, len) : cutText(`${this.#memory.readText(ptr, max)}…`, max);
        this.#record.log(level, text);
      },
      now: (): bigint => BigInt(this.#tick),
      random: (): number => this.#draw(),
      next_seq: (): bigint => BigInt(this.#nextSeq + this.#record.outputs.length),
      self: (ptr: number, capacity: number): number => this.#writeText(this.#name, ptr, capacity),
      correlation: (ptr: number, capacity: number): number =>
        this.#writeText(this.#correlation, ptr, capacity),
    };
  }

  /** The send imports: reads the block at ptr and records the output (0, or SEND_MALFORMED). */
  #send(ptr: number, len: number, delay: number): number {
    const fields = this.#memory.readBlock(ptr, len);
    if (!fields) return SEND_MALFORMED;
    const [to, kind, correlationId, payload] = fields;
    const output = { to, kind, correlationId, payload } as Output;
    if (delay !== 0) output.delayTicks = delay;
    this.#record.send(output, this.#limits);
    return SEND_OK;
  }

  /** A fresh budget for one call; the meter counts down from it (limits.fuel 0: no limit). */
  #refuel(): void {
    this.#record.nextMessage();
    const fuel = this.#exports.__troupe_fuel;
    if (fuel) fuel.value = this.#limits.fuel > 0 ? this.#limits.fuel : UNMETERED;
  }

  #describe(error: unknown): string {
    if (error instanceof LimitBreach) return `limit: ${error.message}`;
    const fuel = this.#exports.__troupe_fuel;
    if (fuel && this.#limits.fuel > 0 && (fuel.value as number) < 0) {
      return `fuel exhausted: the call used more than its budget of ${this.#limits.fuel} (limits.fuel)`;
    }
    const reason = describeTrap(error, this.#record.lastFatal);
    const pages = this.#memory.size / 65536;
    return pages >= this.#limits.memoryPages
      ? `${reason}; memory is at its limit of ${this.#limits.memoryPages} pages (limits.memoryPages)`
      : reason;
  }

  /** The agent's state now (call between ticks). */
  snapshot(moduleHash: Uint8Array): Uint8Array {
    return takeSnapshot(this.#snapshotTarget(), moduleHash);
  }

  /** A short hash of the agent's state now (call between ticks), for journal checkpoints. */
  stateHash(): Uint8Array {
    return stateHash(this.#snapshotTarget());
  }

  /** Replaces a fresh instance's state with a snapshot's; on failure the instance must be discarded. */
  restore(bytes: Uint8Array, moduleHash: Uint8Array): RestoreResult {
    try {
      return restoreSnapshot(bytes, this.#snapshotTarget(), moduleHash);
    } catch (error) {
      return { ok: false, reason: `snapshot could not be applied: ${errorText(error)}` };
    }
  }

  #snapshotTarget(): SnapshotTarget {
    const exports = this.#exports as unknown as Record<string, unknown>;
    const globals = Object.keys(exports)
      .filter((name) => name.startsWith(GLOBAL_EXPORT_PREFIX))
      .sort()
      .map((name) => exports[name] as WebAssembly.Global);
    return { memory: this.#exports.memory, globals };
  }

  /** Writes UTF-8 text at ptr (at most `capacity` bytes); returns its whole length. */
  #writeText(text: string, ptr: number, capacity: number): number {
    const bytes = Buffer.from(text, 'utf8');
    this.#memory.writeBytes(ptr, bytes.subarray(0, Math.max(0, capacity)));
    return bytes.length;
  }

  #begin(tick: number): void {
    this.#fuelMost = 0;
    this.#correlation = '';
    this.#tick = tick;
    this.#random = undefined;
    this.#randomMessage = undefined;
    this.#record.begin();
  }

  #draw(): number {
    this.#random ??=
      this.#randomMessage === undefined
        ? tickRandom(this.#seed, this.#tick)
        : messageRandom(this.#seed, this.#randomMessage);
    return this.#random();
  }

  #place(size: number): number {
    const ptr = this.#exports.troupe_alloc(size);
    if (!Number.isInteger(ptr) || ptr <= 0 || ptr + size > this.#memory.size) {
      throw new Error(`troupe_alloc(${size}) returned an unusable pointer ${ptr}`);
    }
    return ptr;
  }

  #succeed(finished: boolean, handled: number): RunResult {
    const usage = { fuelUsed: this.#fuelMost, memoryPages: this.#memory.size / 65536 };
    return succeeded(this.#record, finished, handled, usage);
  }

  /** After a call: the fuel it used, if it is the most of this batch so far. */
  #countFuel(): void {
    const fuel = this.#exports.__troupe_fuel;
    if (!fuel || this.#limits.fuel <= 0) return;
    this.#fuelMost = Math.max(this.#fuelMost, this.#limits.fuel - (fuel.value as number));
  }

  #fail(index: number, reason: string): RunResult {
    return failed(this.#record, index, reason);
  }
}

/** A crash reason a user can act on: the trap, plus the agent's own last fatal log (its abort). */
function describeTrap(error: unknown, lastFatal: string | undefined): string {
  const base =
    error instanceof WebAssembly.RuntimeError
      ? `trap: ${error.message}`
      : error instanceof RangeError && /call stack/i.test(error.message)
        ? 'trap: stack overflow'
        : `error: ${error instanceof Error ? error.message : String(error)}`;
  return lastFatal ? `${base} (${lastFatal})` : base;
}

export function succeeded(record: CallRecord, finished: boolean, handled: number, usage: Usage): RunResult {
  return { ok: true, outputs: record.outputs, logs: record.takeLogs(), finished, handled, usage };
}

export function failed(record: CallRecord, index: number, reason: string): RunResult {
  return { ok: false, index, reason: cutText(reason, HOST_LIMITS.reasonBytes), logs: record.takeLogs() };
}
