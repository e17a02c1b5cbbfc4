// The GPU host with no system around it (`troupe models`, the benchmarks): the core's GpuHosting
// driven by a small executor of its own. A host that dies is reported, not restarted.
import type { HostProcess } from '../../launch/index.js';
import type { Answer } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { type Effect, GpuHosting, type ModelStatus, type RuntimeEvent } from '../core/index.js';
import { type GpuLaunchOptions, launchGpuHost } from './gpu-launch.js';

export interface GpuAloneOptions extends GpuLaunchOptions {
  clock: Clock;
  onAnswer?: (id: string, answer: Answer) => void;
  onEvent?: (event: RuntimeEvent) => void;
  /** The GPU host died (it was not stopped). */
  onExit?: (reason: string) => void;
}

export class GpuAlone {
  readonly #options: GpuAloneOptions;
  readonly #gpu: GpuHosting;
  readonly #hosts = new Map<number, HostProcess>();
  readonly #timers = new Map<number, () => void>();
  #nextHost = 0;
  #nextTimer = 0;
  #stopped: (() => void) | undefined;

  constructor(options: GpuAloneOptions) {
    this.#options = options;
    this.#gpu = new GpuHosting(options.models, true, {
      push: (effect) => this.#perform(effect),
      emit: (event) => options.onEvent?.(event),
      newHost: () => this.#nextHost++,
      arm: (ms) => {
        const timer = this.#nextTimer++;
        this.#timers.set(
          timer,
          options.clock.setTimeout(() => this.#gpu.onTimer(timer), ms),
        );
        return timer;
      },
      disarm: (timer) => {
        this.#timers.get(timer)?.();
        this.#timers.delete(timer);
      },
    });
  }

  /** The declared models' state and counters. */
  models(): ModelStatus[] {
    return this.#gpu.models();
  }

  start(): void {
    this.#gpu.start();
  }

  submit(requests: ReadonlyArray<{ id: string; model: string; request: Uint8Array }>): void {
    this.#gpu.submit(requests, this.#options.clock.now());
  }

  /** Stops a generation early; its final answer says "cancelled". */
  cancel(model: string, id: string): void {
    this.#gpu.cancel(model, id);
  }

  /** Ends the GPU host (killed if it does not exit within the stop timeout). */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#stopped = resolve;
      if (!this.#gpu.stop()) resolve();
    });
  }

  #perform(effect: Effect): void {
    if (effect.type === 'send') this.#hosts.get(effect.host)?.send(effect.bytes);
    else if (effect.type === 'kill') this.#hosts.get(effect.host)?.kill();
    else if (effect.type === 'spawnGpu') this.#spawn(effect.host);
  }

  #spawn(ref: number): void {
    const { host } = launchGpuHost(this.#options);
    this.#hosts.set(ref, host);
    const now = () => this.#options.clock.now();
    host.onFrame((bytes) => {
      for (const { request, answer } of this.#gpu.onFrame(ref, bytes, now()))
        this.#options.onAnswer?.(request.id, answer);
    });
    host.onOversize((bytes, limit) => this.#gpu.onOversize(ref, bytes, limit));
    host.onExit((info) => {
      this.#hosts.delete(ref);
      const { outcome, interrupted } = this.#gpu.onExit(ref, info, now());
      for (const { request, answer } of interrupted) this.#options.onAnswer?.(request.id, answer);
      if (outcome?.type === 'died') this.#options.onExit?.(outcome.reason);
      else if (outcome?.type === 'stopped') this.#stopped?.();
    });
  }
}
