// The event timeline: crashes, restarts, backoff, give-ups and escalations, dead letters, model
// loads and failures, the GPU host's crashes, pauses; newest last, each with its tick and time.
import type { TimelineEntry } from '../dashboard/wire.js';
import { byId, cell } from './dom.js';
import { VirtualList } from './virtual-list.js';

const KEPT = 2000;

export class TimelinePanel {
  #entries: TimelineEntry[] = [];
  readonly #list: VirtualList<TimelineEntry>;

  constructor(onChoose: (entry: TimelineEntry) => void) {
    this.#list = new VirtualList<TimelineEntry>(byId('timeline'), {
      rowHeight: 22,
      follow: true,
      key: (entry) => String(entry.n),
      render: (entry, element) => {
        element.replaceChildren();
        element.dataset.testid = 'timeline-row';
        element.dataset.kind = entry.kind;
        // A recorded run's events have ticks, not times.
        cell(element, 'num', entry.at > 0 ? `${(entry.at / 1000).toFixed(1)} s` : '');
        cell(element, 'num', entry.tick === undefined ? '' : `t${entry.tick}`);
        cell(element, `badge ${entry.kind}`, entry.kind);
        cell(element, 'name link', entry.agent ?? '');
        cell(element, 'name', entry.text).title = entry.text;
        element.onclick = () => onChoose(entry);
      },
    });
  }

  reset(): void {
    this.#entries = [];
  }

  add(entries: readonly TimelineEntry[]): void {
    if (entries.length === 0) return;
    this.#entries.push(...entries);
    if (this.#entries.length > KEPT) this.#entries = this.#entries.slice(-KEPT);
  }

  draw(): void {
    this.#list.setItems(this.#entries);
    byId('timeline-count').textContent = String(this.#entries.length);
  }
}
