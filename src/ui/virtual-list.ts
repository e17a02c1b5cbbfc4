// A list that renders only the rows in view, so 100 agents or thousands of trace lines cost the
// same as a screenful.

export class VirtualList<T> {
  readonly #container: HTMLElement;
  readonly #spacer: HTMLElement;
  readonly #rowHeight: number;
  readonly #render: (item: T, row: HTMLElement) => void;
  readonly #key: (item: T) => string;
  #items: readonly T[] = [];
  #rows = new Map<string, HTMLElement>();
  #stickToBottom: boolean;
  /** Where this list last scrolled itself to (following its end). */
  #scrolledTo: number | undefined;

  constructor(
    container: HTMLElement,
    options: {
      rowHeight: number;
      render: (item: T, row: HTMLElement) => void;
      key: (item: T) => string;
      follow?: boolean;
    },
  ) {
    this.#container = container;
    this.#rowHeight = options.rowHeight;
    this.#render = options.render;
    this.#key = options.key;
    this.#stickToBottom = options.follow ?? false;
    this.#spacer = document.createElement('div');
    this.#spacer.className = 'spacer';
    container.append(this.#spacer);
    container.addEventListener('scroll', () => {
      // Only the user's own scrolling decides whether to follow: the scroll this list made itself
      // may be seen after the layout has moved (the box shrunk), no longer at the end.
      if (options.follow && container.scrollTop !== this.#scrolledTo) {
        const { scrollTop, scrollHeight, clientHeight } = container;
        this.#stickToBottom = scrollTop + clientHeight >= scrollHeight - this.#rowHeight;
      }
      this.#draw();
    });
  }

  setItems(items: readonly T[]): void {
    this.#items = items;
    this.#spacer.style.height = `${items.length * this.#rowHeight}px`;
    if (this.#stickToBottom) {
      this.#container.scrollTop = this.#container.scrollHeight;
      this.#scrolledTo = this.#container.scrollTop;
    }
    this.#draw();
  }

  #draw(): void {
    const { scrollTop, clientHeight } = this.#container;
    const first = Math.max(0, Math.floor(scrollTop / this.#rowHeight) - 5);
    const last = Math.min(this.#items.length, Math.ceil((scrollTop + clientHeight) / this.#rowHeight) + 5);
    const keep = new Map<string, HTMLElement>();
    for (let index = first; index < last; index++) {
      const item = this.#items[index] as T;
      const key = this.#key(item);
      let row = this.#rows.get(key);
      if (!row) {
        row = document.createElement('div');
        row.className = 'row';
        this.#container.append(row);
      }
      this.#rows.delete(key);
      row.style.transform = `translateY(${index * this.#rowHeight}px)`;
      this.#render(item, row);
      keep.set(key, row);
    }
    for (const row of this.#rows.values()) row.remove();
    this.#rows = keep;
  }
}
