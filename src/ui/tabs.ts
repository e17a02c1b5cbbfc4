// The tab strip over the lower right panel: one view shown at a time, chosen by its button.

export function tabs(strip: HTMLElement, onShow: (name: string) => void = () => {}): (name: string) => void {
  const buttons = [...strip.querySelectorAll<HTMLButtonElement>('button[data-tab]')];
  const show = (name: string) => {
    for (const button of buttons) {
      const on = button.dataset.tab === name;
      button.classList.toggle('on', on);
      button.setAttribute('aria-selected', String(on));
      const view = document.getElementById(`view-${button.dataset.tab}`);
      if (view) view.hidden = !on;
    }
    onShow(name);
  };
  for (const button of buttons) button.addEventListener('click', () => show(button.dataset.tab ?? ''));
  return show;
}
