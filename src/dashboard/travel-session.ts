// Time travel served like a live session: the window gets the recorded run's outline once, then
// asks for ticks (`seek`), answered from the TravelIndex without running anything. Commands that
// would change a live system are refused with the reason.
import { parseCommand } from './commands.js';
import type { CommandResult, DashboardEndpoint } from './session.js';
import type { TravelIndex } from './travel-index.js';
import type { ServerMessage, TickView, TravelInfo } from './wire.js';

export class TravelSession implements DashboardEndpoint {
  readonly #index: TravelIndex;
  readonly #info: TravelInfo;

  constructor(index: TravelIndex, info: TravelInfo) {
    this.#index = index;
    this.#info = info;
  }

  subscribe(listener: (message: ServerMessage) => void): () => void {
    listener({ type: 'travel', travel: this.#info });
    return () => {};
  }

  async request(value: unknown): Promise<CommandResult> {
    const parsed = parseCommand(value, new Set(this.#index.agents));
    if (!parsed.ok) return { error: parsed.error };
    const { command } = parsed;
    if (command.op !== 'seek')
      return {
        error: `"${command.op}" changes a live system; this is a recorded run (time travel): only "seek"`,
      };
    if (command.tick > this.#info.lastTick)
      return { error: `tick ${command.tick} is past the recording's last, ${this.#info.lastTick}` };
    return { at: this.seek(command.tick, command.agent) };
  }

  /** The system at tick N: every agent's state and mailbox depth, one agent's (or all) in depth. */
  seek(tick: number, agent?: string): TickView {
    return {
      tick,
      agents: this.#index.at(tick, agent),
      deliveries: this.#index.deliveriesAt(tick).map((seen, i) => ({
        n: i + 1,
        tick,
        from: seen.view.from,
        to: seen.to,
        kind: seen.view.kind,
        bytes: seen.view.bytes,
        ...(seen.view.text !== undefined && seen.view.text.length <= 80 ? { text: seen.view.text } : {}),
      })),
      logs: this.#index.logsAt(tick),
    };
  }
}
