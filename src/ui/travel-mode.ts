// Time travel in the window (a journal opened with `troupe inspect FILE --dashboard`): a slider
// over the recorded ticks with the marked ones drawn under it, steps back and forward, jumps to
// the previous or next mark, and a tick to type. Each move asks the server for that tick (`seek`)
// and the panels show the system as it was then.
import type { TickView, TravelInfo } from '../dashboard/wire.js';
import { byId } from './dom.js';
import type { Transport } from './transport.js';

export interface TravelHooks {
  /** The system at the tick the window moved to; `agent` is the one the Agent tab shows. */
  show(view: TickView): void;
  /** The agent the Agent tab shows, if any (asked for in depth with each seek). */
  agent(): string | undefined;
  say(text: string, error?: boolean): void;
}

export class TravelMode {
  readonly #info: TravelInfo;
  readonly #transport: Transport;
  readonly #hooks: TravelHooks;
  readonly #marked: number[];
  #tick = 0;
  #asking = false;
  #wanted: number | undefined;

  constructor(info: TravelInfo, transport: Transport, hooks: TravelHooks) {
    this.#info = info;
    this.#transport = transport;
    this.#hooks = hooks;
    this.#marked = [...new Set(info.marks.map((mark) => mark.tick ?? 0))].sort((a, b) => a - b);
    document.body.classList.add('travelling');
    byId('travel-bar').hidden = false;
    const slider = byId<HTMLInputElement>('tt-slider');
    slider.min = '1';
    slider.max = String(Math.max(1, info.lastTick));
    slider.addEventListener('input', () => void this.seek(Number(slider.value)));
    byId('tt-back').addEventListener('click', () => void this.seek(this.#tick - 1));
    byId('tt-forward').addEventListener('click', () => void this.seek(this.#tick + 1));
    byId('tt-prev-event').addEventListener('click', () => {
      const previous = this.#marked.filter((tick) => tick < this.#tick).at(-1);
      if (previous !== undefined) void this.seek(previous);
    });
    byId('tt-next-event').addEventListener('click', () => {
      const next = this.#marked.find((tick) => tick > this.#tick);
      if (next !== undefined) void this.seek(next);
    });
    byId<HTMLInputElement>('tt-tick').addEventListener('change', (event) => {
      void this.seek(Number((event.target as HTMLInputElement).value));
    });
    this.#drawMarks();
    const note = info.divergence
      ? `the replay diverged at tick ${info.divergence.tick}: ${info.divergence.reason}`
      : info.parting
        ? `${info.parting.other} parts from this journal at tick ${info.parting.tick}: ${info.parting.reason}`
        : `${info.lastTick} ticks recorded in ${info.journal}`;
    byId('tt-note').textContent = note;
    byId('tt-note').title = note;
  }

  get tick(): number {
    return this.#tick;
  }

  /** Moves to tick N (kept within the recording); the latest wish wins while one is on its way. */
  async seek(tick: number): Promise<void> {
    const target = Math.max(1, Math.min(this.#info.lastTick, Math.round(tick) || 1));
    if (this.#asking) {
      this.#wanted = target;
      return;
    }
    this.#asking = true;
    const agent = this.#hooks.agent();
    const result = await this.#transport.request({ op: 'seek', tick: target, ...(agent ? { agent } : {}) });
    this.#asking = false;
    if (result.at) {
      this.#tick = result.at.tick;
      byId<HTMLInputElement>('tt-slider').value = String(this.#tick);
      byId<HTMLInputElement>('tt-tick').value = String(this.#tick);
      document.body.dataset.travelTick = String(this.#tick);
      this.#hooks.show(result.at);
    } else if (result.error) {
      this.#hooks.say(`refused: ${result.error}`, true);
    }
    const wanted = this.#wanted;
    this.#wanted = undefined;
    if (wanted !== undefined && wanted !== this.#tick) await this.seek(wanted);
  }

  #drawMarks(): void {
    const strip = byId('tt-marks');
    strip.replaceChildren();
    const span = Math.max(1, this.#info.lastTick - 1);
    for (const mark of this.#info.marks) {
      const dot = document.createElement('span');
      dot.className = mark.kind;
      dot.style.left = `${(((mark.tick ?? 1) - 1) / span) * 100}%`;
      dot.title = `t${mark.tick} ${mark.kind}${mark.agent ? ` ${mark.agent}` : ''}: ${mark.text}`;
      strip.append(dot);
    }
  }
}
