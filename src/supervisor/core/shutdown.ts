// Stopping the system: agents one at a time in reverse start order, each given shutdownMs, then
// the GPU host; then the run's summary.
import { encodeCommand } from '../../protocol/index.js';
import type { CoreState } from './core-state.js';
import { summarize } from './run-report.js';

export class Shutdown {
  readonly #s: CoreState;

  constructor(state: CoreState) {
    this.#s = state;
  }

  /** Stops agents one at a time in reverse start order, each with shutdownMs to exit, then killed. */
  shutdown(): void {
    if (this.#s.shuttingDown) return;
    this.#s.shuttingDown = true;
    this.#s.effects.push({ type: 'shutdown' });
    this.stopNext();
  }

  stopNext(): void {
    for (const slot of [...this.#s.slots.values()].reverse()) {
      const host = slot.host;
      if (host === undefined) {
        if (slot.state !== 'stopped' && slot.state !== 'failed') {
          slot.send({ type: 'STOP' });
          slot.send({ type: 'STOPPED' });
        }
        continue;
      }
      if (slot.stopping) return;
      slot.stopping = true;
      slot.send({ type: 'STOP' });
      const reason = this.#s.stop?.reason ?? '';
      this.#s.effects.push({
        type: 'send',
        host,
        bytes: encodeCommand({ agent: slot.name, stop: { reason } }),
      });
      // Cancelled by the exit (like a watchdog), so a clean stop leaves no timer behind.
      this.#s.disarm(slot);
      slot.timer = this.#s.arm({ type: 'shutdown', slot, host }, this.#s.options.shutdownMs);
      return;
    }
    this.finishIfAllExited();
  }

  finishIfAllExited(): void {
    if (this.#s.finished) return;
    for (const slot of this.#s.slots.values()) if (slot.host !== undefined) return;
    // The service hosts go last: agents may wait on their answers until they stop.
    if (this.#s.gpu.stop()) return;
    if (this.#s.tools.stop()) return;
    const stop = this.#s.stop ?? { reason: 'stopped', ok: true };
    const unstarted = [...this.#s.neverStarted.keys()].map((agent) => `"${agent}"`);
    const ok = stop.ok && unstarted.length === 0;
    const reason =
      unstarted.length === 0
        ? stop.reason
        : `${stop.reason}; ${unstarted.length === 1 ? 'agent' : 'agents'} ${unstarted.join(', ')} never started (module refused)`;
    const summary = summarize(this.#s.slots.values(), {
      ok,
      reason,
      ticks: this.#s.scheduler.tick,
      delivered: this.#s.delivered,
      deadLetters: this.#s.deadLetters.count,
      rejectedFrames: this.#s.rejectedFrames,
      trace: this.#s.trace.digest('hex'),
    });
    if (this.#s.gpu.enabled) summary.models = this.#s.gpu.models();
    const divergence = this.#s.bridge.divergence;
    if (divergence) summary.divergence = divergence;
    for (const slot of this.#s.slots.values()) slot.stop();
    this.#s.bridge.close();
    this.#s.finished = true;
    const { ticks, delivered, trace } = summary;
    this.#s.emit({ type: 'run.end', ok, reason, ticks, delivered, trace, summary });
    this.#s.effects.push({ type: 'finished', summary });
  }
}
