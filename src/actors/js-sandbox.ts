// One JavaScript agent: its bundle (made by the supervisor's module cache from a .ts or .js file)
// run by its own QuickJS instance, compiled to WebAssembly. The same contract as a WASM agent's
// sandbox: fuel per call, a memory cap, seeded randomness and logical time, snapshots and state
// hashes of the instance's whole memory, failures returned as data.
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { messageRandom, tickRandom } from '../abi/index.js';
import { type Envelope, envelopeId, errorText } from '../protocol/index.js';
import { CONTROL_INDEX } from '../sdk/host-bridge.js';
import { CallRecord, LimitBreach } from './call-record.js';
import { decodeOutputs, encodeBatch } from './js-blocks.js';
import { describeFailure } from './js-failure.js';
import { EngineFuel } from './js-fuel.js';
import { applyImage, changedPages, type StartImage } from './js-image.js';
import { blockAt, findControlBlock, PRELUDE } from './js-prelude.js';
import {
  createEngine,
  type EngineClock,
  engineClock,
  QUICKJS_MIN_PAGES,
  type QuickJsEngine,
} from './quickjs-engine.js';
import { failed, type RunResult, type Sandbox, type SandboxLimits, succeeded } from './sandbox.js';
import {
  type RestoreResult,
  restoreSnapshot,
  type SnapshotTarget,
  stateHash,
  takeSnapshot,
} from './snapshot.js';

/** Logical milliseconds per tick, as `Date.now()` reads them. */
export const MS_PER_TICK = 1000;
// QuickJS's own stack check must fire before V8's: at 512 KiB a host process's main thread (about
// 1 MiB of native stack) overflows first, at 256 KiB (some 1,300 plain JS calls deep) it never did.
const STACK_BYTES = 256 * 1024;
/**
 * Room left under the page limit outside the JS heap: QuickJS's own data and stack (about 0.6 MiB,
 * engine-file.ts) and its allocator's overhead, with a wide margin.
 */
const RESERVED_BYTES = 6 * 1024 * 1024;
const PAGE = 65536;
/** Stands for "handling <id> (<kind>)" in a batch's failure until the failing message is known. */
const PLACE = '\u0000message\u0000';

/**
 * Per thread: each bundle's start image, by memory limit, file and code (null: its top-level code
 * must run in every instance). Kept for the thread's life, like the compiled engine.
 */
const images = new Map<string, StartImage | null>();

/** Where the control block is in every instance set up as JsSandbox does (per thread). */
let controlOffset: number | undefined;

export class JsSandbox implements Sandbox {
  readonly #agent: string;
  readonly #seed: number;
  readonly #limits: SandboxLimits;
  readonly #engine: QuickJsEngine;
  readonly #runtime: QuickJSRuntime;
  readonly #context: QuickJSContext;
  readonly #clock: EngineClock;
  readonly #record = new CallRecord();
  #random: () => number = () => 0;
  #breach: LimitBreach | undefined;
  readonly #fuel: EngineFuel;
  /** The running call drew from the agent's random stream. */
  #drewRandom = false;
  /** The ids of the batch being handled. */
  #ids: string[] = [];
  /** Byte offset of the running message's index in the SDK's control block (src/sdk/host-bridge.ts). */
  #indexAt: number | undefined;
  /** The message each per-message count was last started for. */
  #sendIndex = -1;
  #randomIndex = -1;
  #init: QuickJSHandle | undefined;
  #handle: QuickJSHandle | undefined;
  #code: string;
  #file: string;

  private constructor(
    engine: QuickJsEngine,
    clock: EngineClock,
    source: { code: string; file: string },
    agent: string,
    seed: number,
    limits: SandboxLimits,
  ) {
    this.#engine = engine;
    this.#clock = clock;
    this.#code = source.code;
    this.#file = source.file;
    this.#agent = agent;
    this.#seed = seed;
    this.#limits = limits;
    const heap = limits.memoryPages * PAGE - RESERVED_BYTES;
    this.#fuel = new EngineFuel(engine.fuel, limits.fuel, () => this.#runningIndex());
    clock.refuel = () => this.#fuel.refuel();
    this.#runtime = engine.module.newRuntime({ memoryLimitBytes: heap, maxStackSizeBytes: STACK_BYTES });
    this.#context = this.#runtime.newContext();
    this.#installBridge();
  }

  /** Pages a JavaScript agent needs at least: QuickJS's own, plus room for a small heap. */
  static readonly minPages = QUICKJS_MIN_PAGES + RESERVED_BYTES / PAGE;

  /** A fresh instance; `code` is the agent's bundle, `file` the name its stack traces show. */
  static async create(
    source: { code: string; file: string },
    agent: string,
    seed: number,
    limits: SandboxLimits,
  ): Promise<JsSandbox> {
    if (limits.memoryPages < JsSandbox.minPages) {
      throw new Error(
        `a JavaScript agent needs limits.memoryPages of at least ${JsSandbox.minPages} (QuickJS itself takes ${QUICKJS_MIN_PAGES} pages); it has ${limits.memoryPages}`,
      );
    }
    const clock = engineClock();
    const engine = await createEngine(limits.memoryPages, clock);
    const sandbox = new JsSandbox(engine, clock, source, agent, seed, limits);
    sandbox.#indexAt = await JsSandbox.#controlIndexAt(engine.memory, limits);
    return sandbox;
  }

  /**
   * The byte offset of the control block's index word in `memory`. Every instance is set up by
   * the same steps, so the block is at the same place in each: it is looked for once per thread,
   * in a throwaway instance (reading all of an instance's memory would make it all resident),
   * and checked in each new one.
   */
  static async #controlIndexAt(memory: WebAssembly.Memory, limits: SandboxLimits): Promise<number> {
    if (controlOffset === undefined || !blockAt(memory, controlOffset)) {
      const clock = engineClock();
      const probe = await createEngine(limits.memoryPages, clock);
      new JsSandbox(probe, clock, { code: '', file: 'probe' }, 'probe', 0, limits);
      controlOffset = findControlBlock(probe.memory);
      if (!blockAt(memory, controlOffset)) controlOffset = findControlBlock(memory);
    }
    return controlOffset + CONTROL_INDEX * 4;
  }

  /**
   * Runs the module's top-level code, which defines the agent (defineAgent). The first instance of
   * a bundle on this thread runs it for real and keeps what it changed as a memory image; later
   * instances get the image written instead (js-image.ts), ending in the same memory, with the
   * same logs and fuel. Top-level code that reads the clock or draws random numbers would differ
   * per agent or per tick: such a bundle always runs for real.
   */
  start(tick: number): RunResult {
    const key = `${this.#limits.memoryPages}\u0000${this.#file}\u0000${this.#code}`;
    const image = images.get(key);
    if (image) return this.#startFrom(image, tick);
    // Read once per bundle and thread: a copy of the memory before the code runs, to compare.
    const before = image === undefined ? new Uint8Array(this.#engine.memory.buffer).slice() : undefined;
    this.#begin(tick);
    this.#random = tickRandom(this.#seed, tick);
    const failure = this.#guard('in its top-level code', () =>
      this.#context.evalCode(this.#code, this.#file),
    );
    if (failure) return failed(this.#record, 0, failure);
    const imageable = !this.#clock.read && !this.#drewRandom;
    const memory = before && imageable ? changedPages(before, this.#engine.memory) : undefined;
    const result = this.#bind();
    if (before)
      images.set(key, memory && result.ok ? { memory, logs: result.logs, fuelUsed: this.#fuel.used } : null);
    return result;
  }

  #startFrom(image: StartImage, tick: number): RunResult {
    this.#begin(tick);
    applyImage(image.memory, this.#engine.memory, () => this.#engine.refreshViews());
    for (const log of image.logs) this.#record.log(log.level, log.text);
    this.#fuel.used = image.fuelUsed;
    return this.#bind();
  }

  /** Takes the agent's entry points from what the top-level code defined. */
  #bind(): RunResult {
    const entry = this.#context.getProp(this.#context.global, '__troupe_agent');
    const type = this.#context.typeof(entry);
    if (type !== 'object') {
      entry.dispose();
      return failed(
        this.#record,
        0,
        `${this.#file} defines no agent: call defineAgent({ ... }) from "troupe/agent" in its top-level code`,
      );
    }
    this.#init = this.#context.getProp(entry, 'init');
    this.#handle = this.#context.getProp(entry, 'handle');
    entry.dispose();
    return succeeded(this.#record, false, 0, this.#usage());
  }

  init(data: Uint8Array, tick: number, nextSeq = 1): RunResult {
    this.#begin(tick);
    this.#random = tickRandom(this.#seed, tick);
    const failure = this.#call(this.#init, [this.#agent, tick, nextSeq, data], 'in init');
    if (failure) return failed(this.#record, 0, failure);
    return succeeded(this.#record, false, 0, this.#usage());
  }

  /** The whole batch goes in with one call; the SDK marks in its control block which message runs. */
  handle(envelopes: readonly Envelope[], tick: number, nextSeq = 1): RunResult {
    this.#begin(tick);
    this.#ids = envelopes.map(envelopeId);
    const outcome: { value?: number } = {};
    const args = [this.#agent, tick, nextSeq, encodeBatch(envelopes, this.#ids), envelopes.length];
    const failure = this.#call(this.#handle, args, PLACE, outcome);
    if (failure) {
      // The message the SDK said was running when the call failed.
      const index = Math.max(0, this.#runningIndex());
      const what = `handling ${this.#ids[index]} (${envelopes[index]?.kind ?? ''})`;
      return failed(this.#record, index, failure.replace(PLACE, what));
    }
    const value = outcome.value ?? 0;
    return succeeded(this.#record, value % 2 === 1, Math.floor(value / 2), this.#usage());
  }

  /** The fuel the whole call used (one call handles the batch), and the memory after it. */
  #usage(): { fuelUsed: number; memoryPages: number } {
    return { fuelUsed: this.#fuel.used, memoryPages: this.#engine.memory.buffer.byteLength / 65536 };
  }

  snapshot(moduleHash: Uint8Array): Uint8Array {
    return takeSnapshot(this.#target(), moduleHash);
  }

  stateHash(): Uint8Array {
    return stateHash(this.#target());
  }

  restore(bytes: Uint8Array, moduleHash: Uint8Array): RestoreResult {
    const before = this.#engine.memory.buffer.byteLength;
    try {
      const result = restoreSnapshot(bytes, this.#target(), moduleHash);
      if (this.#engine.memory.buffer.byteLength !== before) this.#engine.refreshViews();
      return result;
    } catch (error) {
      return { ok: false, reason: `snapshot could not be applied: ${errorText(error)}` };
    }
  }

  /** The instance's memory is its whole state between calls (its one global, the stack pointer, is at rest). */
  #target(): SnapshotTarget {
    return { memory: this.#engine.memory, globals: [] };
  }

  #begin(tick: number): void {
    this.#clock.nowMs = tick * MS_PER_TICK;
    this.#ids = [];
    this.#record.begin();
    this.#sendIndex = -1;
    this.#randomIndex = -1;
    this.#breach = undefined;
    this.#fuel.reset();
    this.#clock.memoryRefused = false;
    this.#clock.read = false;
    this.#drewRandom = false;
  }

  /**
   * The message the SDK says is running (-1: none, as in init), within the batch. The agent's
   * code can reach the control block too, so what counts per message (fuel, sends) starts again
   * only when the index grows: a batch of N messages never gets more than N budgets.
   */
  #runningIndex(): number {
    if (this.#indexAt === undefined) return -1;
    const index = new DataView(this.#engine.memory.buffer).getInt32(this.#indexAt, true);
    return Math.min(Math.max(index, -1), this.#ids.length - 1);
  }

  /** Calls an entry function with plain arguments; the failure's reason, or undefined. */
  #call(
    fn: QuickJSHandle | undefined,
    args: ReadonlyArray<string | number | Uint8Array>,
    what: string,
    outcome: { value?: number } = {},
  ): string | undefined {
    if (!fn) return 'the agent was not started';
    const context = this.#context;
    const handles = args.map((arg) =>
      typeof arg === 'string'
        ? context.newString(arg)
        : typeof arg === 'number'
          ? context.newNumber(arg)
          : // A copy: a Buffer's slice() is a view into a larger (pooled) ArrayBuffer.
            context.newArrayBuffer(new Uint8Array(arg).buffer),
    );
    return this.#guard(what, () => {
      const result = context.callFunction(fn, context.undefined, ...handles);
      for (const handle of handles) handle.dispose();
      if ('value' in result && result.value && context.typeof(result.value) === 'number') {
        outcome.value = context.getNumber(result.value);
      }
      return result;
    });
  }

  /**
   * Runs a call into QuickJS, then the promise jobs it left, all on the agent's fuel; describes
   * any failure. A host-side failure (V8's own stack overflow) fails it too.
   */
  #guard(what: string, call: () => ReturnType<QuickJSContext['evalCode']>): string | undefined {
    let error: QuickJSHandle | undefined;
    let where = what;
    const stopMetering = this.#fuel.start();
    try {
      const result = call();
      if (result.error) error = result.error;
      else {
        result.value.dispose();
        const jobs = this.#runtime.executePendingJobs();
        if (jobs.error) {
          error = jobs.error;
          where = `${what}, in a promise job`;
        }
      }
    } catch (thrown) {
      // The instance is unusable now; the caller discards it, as after any failure.
      if (this.#fuel.out) return this.#fuel.reason();
      const reason =
        thrown instanceof RangeError ? 'stack overflow (the host ran out of stack)' : errorText(thrown);
      return `${reason} ${what}`;
    } finally {
      stopMetering();
    }
    const failure = error ? this.#describe(error, where) : undefined;
    error?.dispose();
    // A breached limit fails the call even when the agent caught the error it threw.
    if (this.#fuel.out) return this.#fuel.reason();
    if (this.#breach) return `limit: ${this.#breach.message}`;
    return failure;
  }

  #describe(error: QuickJSHandle, what: string): string {
    // Describing the error allocates in the heap, which may be full (an out-of-memory error):
    // lift the heap's limit while it is read. The instance is discarded after a failure anyway.
    this.#runtime.setMemoryLimit(-1);
    const thrown = this.#context.dump(error);
    return describeFailure(thrown, what, this.#clock.memoryRefused, this.#limits.memoryPages);
  }

  #installBridge(): void {
    const context = this.#context;
    const bridge = context.newObject();
    const define = (name: string, fn: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
      const handle = context.newFunction(name, fn);
      context.setProp(bridge, name, handle);
      handle.dispose();
    };
    const text = (handle: QuickJSHandle | undefined, name: string): string => {
      if (!handle || context.typeof(handle) !== 'string') throw new TypeError(`${name} must be a string`);
      return context.getString(handle);
    };
    const bytes = (handle: QuickJSHandle | undefined): Uint8Array => {
      const lifetime = context.getArrayBuffer(handle as QuickJSHandle);
      const copy = lifetime.value.slice();
      lifetime.dispose();
      return copy;
    };
    define('flush', (outputs) => {
      const running = this.#runningIndex();
      if (running > this.#sendIndex) {
        this.#sendIndex = running;
        this.#record.nextMessage();
      }
      try {
        for (const output of decodeOutputs(bytes(outputs))) this.#record.send(output, this.#limits);
      } catch (error) {
        if (error instanceof LimitBreach) this.#breach ??= error;
        throw error;
      }
      return undefined;
    });
    define('log', (level, line) => {
      this.#record.log(context.getNumber(level as QuickJSHandle), text(line, 'log text'));
      return undefined;
    });
    define('random', () => {
      this.#drewRandom = true;
      const running = this.#runningIndex();
      if (running >= 0 && running !== this.#randomIndex) {
        this.#randomIndex = running;
        this.#random = messageRandom(this.#seed, this.#ids[running] ?? '');
      }
      return context.newNumber(this.#random());
    });
    const prelude = context.evalCode(PRELUDE, 'troupe-prelude.js');
    const install = context.unwrapResult(prelude);
    context.unwrapResult(context.callFunction(install, context.undefined, bridge)).dispose();
    install.dispose();
    bridge.dispose();
  }
}
