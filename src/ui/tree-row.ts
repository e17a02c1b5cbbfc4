// One row of the supervision tree, built once and then updated in place: a row rebuilt with each
// snapshot (four a second) would swap its buttons between a press and its release, and the click
// would be lost (seen in the browser tests under load).
import type { AgentView, TreeRow } from '../dashboard/wire.js';
import { cell, sparkline } from './dom.js';

export interface TreeRowHooks {
  /** Show this agent in depth. */
  open(agent: string): void;
  /** Kill or restart it. */
  act(op: 'kill' | 'restart', agent: string): void;
  /** Buttons are off (a recorded run is being shown). */
  readOnly(): boolean;
}

interface AgentCells {
  state: HTMLElement;
  mailbox: HTMLElement;
  delivered: HTMLElement;
  restarts: HTMLElement;
  canvas: HTMLCanvasElement;
  buttons: HTMLButtonElement[];
}

const built = new WeakMap<HTMLElement, { key: string; cells?: AgentCells }>();

export function renderTreeRow(
  row: TreeRow,
  element: HTMLElement,
  agent: AgentView | undefined,
  hooks: TreeRowHooks,
): void {
  const key = `${row.kind}:${row.name}`;
  let done = built.get(element);
  if (done?.key !== key) {
    done = { key, ...build(row, element, hooks) };
    built.set(element, done);
  }
  if (done.cells && agent) update(done.cells, element, agent, hooks);
}

function build(row: TreeRow, element: HTMLElement, hooks: TreeRowHooks): { cells?: AgentCells } {
  element.replaceChildren();
  element.classList.toggle('supervisor', row.kind === 'supervisor');
  const name = cell(
    element,
    'name',
    `${'  '.repeat(row.depth)}${row.kind === 'supervisor' ? '▾ ' : ''}${row.name}`,
  );
  name.style.paddingLeft = `${row.depth * 14}px`;
  if (row.kind === 'supervisor') {
    cell(element, 'muted', row.strategy ?? '');
    return {};
  }
  name.classList.add('link');
  name.title = `show ${row.name} in depth`;
  name.dataset.testid = `open-${row.name}`;
  name.addEventListener('click', () => hooks.open(row.name));
  element.dataset.testid = `agent-${row.name}`;
  const canvas = document.createElement('canvas');
  const cells: AgentCells = {
    state: cell(element, 'badge', '', `state-${row.name}`),
    mailbox: cell(element, 'num', '', `mailbox-${row.name}`),
    delivered: cell(element, 'num', '', `delivered-${row.name}`),
    restarts: cell(element, 'num', '', `restarts-${row.name}`),
    canvas,
    buttons: [],
  };
  element.append(canvas);
  const actions = document.createElement('span');
  for (const [op, label] of [
    ['kill', 'Kill'],
    ['restart', 'Restart'],
  ] as const) {
    const button = document.createElement('button');
    button.textContent = label;
    button.dataset.testid = `${op}-${row.name}`;
    button.addEventListener('click', () => hooks.act(op, row.name));
    actions.append(button);
    cells.buttons.push(button);
  }
  element.append(actions);
  return { cells };
}

function update(cells: AgentCells, element: HTMLElement, agent: AgentView, hooks: TreeRowHooks): void {
  cells.state.textContent = agent.state;
  cells.state.className = `badge ${agent.state}`;
  cells.mailbox.textContent = String(agent.mailbox);
  cells.delivered.textContent = String(agent.delivered);
  cells.restarts.textContent = String(agent.restarts);
  const crash = agent.lastCrash ? `last crash: ${agent.lastCrash}` : '';
  cells.restarts.title = crash;
  if (crash) element.title = crash;
  else element.removeAttribute('title');
  cells.canvas.title = `${(agent.rate.at(-1) ?? 0).toFixed(0)} deliveries/s`;
  sparkline(cells.canvas, agent.rate);
  const off = hooks.readOnly() || agent.state === 'stopped' || agent.state === 'failed';
  for (const button of cells.buttons) button.disabled = off;
}
