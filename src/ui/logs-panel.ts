// Agent logs: every line the agents and the GPU host report, filtered by agent and by a search,
// following the newest unless scrolled back.
import type { LogEntry } from '../dashboard/wire.js';
import { byId, cell } from './dom.js';
import { VirtualList } from './virtual-list.js';

const KEPT = 10_000;

export class LogsPanel {
  #entries: LogEntry[] = [];
  #agent = '';
  #search = '';
  readonly #list: VirtualList<LogEntry>;

  constructor() {
    this.#list = new VirtualList<LogEntry>(byId('logs'), {
      rowHeight: 22,
      follow: true,
      key: (entry) => String(entry.n),
      render: (entry, element) => {
        element.replaceChildren();
        element.dataset.testid = 'log-row';
        element.classList.toggle('warn', entry.level === 'warn');
        element.classList.toggle('error', entry.level === 'error');
        cell(element, 'num', `t${entry.tick}`);
        cell(element, 'name', entry.agent);
        cell(element, 'muted', entry.level);
        cell(element, 'name', entry.text).title = entry.text;
      },
    });
    byId<HTMLSelectElement>('logs-agent').addEventListener('change', (event) => {
      this.#agent = (event.target as HTMLSelectElement).value;
      this.draw();
    });
    byId<HTMLInputElement>('logs-search').addEventListener('input', (event) => {
      this.#search = (event.target as HTMLInputElement).value.toLowerCase();
      this.draw();
    });
  }

  /** A new run starts with no lines. */
  reset(): void {
    this.#entries = [];
  }

  add(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    this.#entries.push(...entries);
    if (this.#entries.length > KEPT) this.#entries = this.#entries.slice(-KEPT);
  }

  /** Shows the lines that pass the filters; `dropped` lines were skipped under load. */
  draw(dropped = 0): void {
    const shown = this.#entries.filter(
      (entry) =>
        (this.#agent === '' || entry.agent === this.#agent) &&
        (this.#search === '' || entry.text.toLowerCase().includes(this.#search)),
    );
    this.#list.setItems(shown);
    byId('logs-count').textContent =
      `${shown.length} shown${dropped ? `, ${dropped} skipped under load` : ''}`;
  }
}
