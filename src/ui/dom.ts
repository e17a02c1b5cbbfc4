// Small DOM helpers: every text goes in through textContent (payloads are untrusted).

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

export function cell(parent: HTMLElement, className: string, text: string, testId?: string): HTMLElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  if (testId) element.dataset.testid = testId;
  parent.append(element);
  return element;
}

/** Draws the samples as a line scaled to their maximum. */
export function sparkline(canvas: HTMLCanvasElement, samples: readonly number[]): void {
  const ratio = window.devicePixelRatio || 1;
  const width = 120;
  const height = 22;
  if (canvas.width !== width * ratio) {
    canvas.width = width * ratio;
    canvas.height = height * ratio;
  }
  const context = canvas.getContext('2d');
  if (!context) return;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  const max = Math.max(1, ...samples);
  context.strokeStyle = '#58a6ff';
  context.lineWidth = 1;
  context.beginPath();
  samples.forEach((value, index) => {
    const x = samples.length < 2 ? 0 : (index / (samples.length - 1)) * (width - 2) + 1;
    const y = height - 2 - (value / max) * (height - 4);
    if (index === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
}
