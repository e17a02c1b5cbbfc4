// One agent in depth: its lifecycle state and their history, its mailbox (payloads as text, JSON
// or hex), what is on its way to it, its last crash and restarts, its limits with their use, and
// its newest log lines. Asked for again with each snapshot while it shows.
import type { AgentAtTickView, AgentDetail, CallView, MessageView } from '../dashboard/wire.js';
import { byId } from './dom.js';

export function drawDetail(detail: AgentDetail): void {
  const root = byId('detail');
  root.dataset.agent = detail.name;
  root.replaceChildren();
  const title = element('h3', `${detail.name} `);
  const badge = element('span', detail.state);
  badge.className = `badge ${detail.state}`;
  badge.dataset.testid = 'detail-state';
  title.append(badge);
  root.append(title);
  root.append(
    facts([
      ['delivered', String(detail.delivered)],
      ['restarts', String(detail.restarts)],
      ['last crash', detail.lastCrash ?? 'none'],
      ['mailbox', `${detail.mailboxDepth} of ${detail.limits.mailbox} (limits.mailbox)`],
      ['fuel per message', use(detail.usage?.fuelUsed, detail.limits.fuel, 'limits.fuel')],
      ['memory pages', use(detail.usage?.memoryPages, detail.limits.memoryPages, 'limits.memoryPages')],
      ['largest message', `${detail.limits.maxMessageBytes} bytes (limits.maxMessageBytes)`],
      ['sends per message', `${detail.limits.maxSendsPerMessage} (limits.maxSendsPerMessage)`],
      ['watchdog', `${detail.limits.watchdogMs} ms (limits.watchdogMs)`],
    ]),
  );
  root.append(element('h4', 'States'));
  const states = element(
    'div',
    detail.history.map((entry) => `t${entry.tick} ${entry.state}`).join(' → ') || 'none yet',
  );
  states.dataset.testid = 'detail-history';
  root.append(states);
  root.append(element('h4', `Mailbox (${detail.mailboxDepth})`));
  root.append(messages(detail.mailbox, 'detail-mailbox'));
  if (detail.inTransit.length > 0) {
    root.append(element('h4', 'On its way (next tick)'));
    root.append(messages(detail.inTransit, 'detail-in-transit'));
  }
  root.append(element('h4', `Calls to models and tools (${detail.calls.length})`));
  root.append(calls(detail.calls));
  root.append(element('h4', 'Logs'));
  const logs = element(
    'pre',
    detail.logs.map((entry) => `t${entry.tick} ${entry.level}: ${entry.text}`).join('\n') || 'none',
  );
  logs.dataset.testid = 'detail-logs';
  root.append(logs);
}

/** One agent at a tick of a recorded run (time travel). */
export function drawAgentAtTick(agent: AgentAtTickView, tick: number): void {
  const root = byId('detail');
  root.dataset.agent = agent.name;
  root.dataset.tick = String(tick);
  root.replaceChildren();
  const title = element('h3', `${agent.name} at tick ${tick} `);
  const badge = element('span', agent.state);
  badge.className = `badge ${agent.state}`;
  badge.dataset.testid = 'detail-state';
  title.append(badge);
  root.append(title);
  const hash = agent.stateHash
    ? `${agent.stateHash.hash} (checkpoint of tick ${agent.stateHash.tick})`
    : 'no checkpoint yet (the journal records them every checkpointEvery ticks)';
  root.append(
    facts([
      ['restarts so far', String(agent.restarts)],
      ['mailbox after the tick', String(agent.mailboxDepth)],
      ['state hash', hash],
    ]),
  );
  const sections: Array<[string, readonly MessageView[], string]> = [
    ['Received at this tick', agent.received, 'detail-received'],
    ['Sent during this tick', agent.sent, 'detail-sent'],
    [`Mailbox after the tick (${agent.mailboxDepth})`, agent.mailbox, 'detail-mailbox'],
    ['On its way (next tick)', agent.inTransit, 'detail-in-transit'],
  ];
  for (const [heading, views, testId] of sections) {
    root.append(element('h4', heading));
    root.append(messages(views, testId));
  }
  root.append(element('h4', 'Logs at this tick'));
  const logs = element(
    'pre',
    agent.logs.map((entry) => `${entry.level}: ${entry.text}`).join('\n') || 'none',
  );
  logs.dataset.testid = 'detail-logs';
  root.append(logs);
}

function use(used: number | undefined, limit: number, name: string): string {
  if (limit === 0) return `no limit (${name} 0)`;
  if (used === undefined) return `limit ${limit} (${name}); no batch handled yet`;
  if (used === 0 && name === 'limits.fuel')
    return `limit ${limit} (${name}); not counted per message for this agent`;
  return `${used} of ${limit} (${name}, ${Math.round((used / limit) * 100)}%) in its last batch`;
}

function facts(rows: Array<[string, string]>): HTMLElement {
  const table = document.createElement('table');
  table.dataset.testid = 'detail-facts';
  for (const [name, value] of rows) {
    const tr = document.createElement('tr');
    tr.append(element('th', name), element('td', value));
    table.append(tr);
  }
  return table;
}

function messages(views: readonly MessageView[], testId: string): HTMLElement {
  const list = document.createElement('div');
  list.dataset.testid = testId;
  if (views.length === 0) list.textContent = 'empty';
  for (const view of views) {
    const row = document.createElement('div');
    row.className = 'message';
    row.dataset.testid = 'detail-message';
    const head = `${view.id} from ${view.from} (${view.kind}, ${view.bytes} bytes${view.json ? ', JSON' : ''})`;
    row.append(element('span', head));
    const body = element('code', view.text ?? (view.hex ? `hex ${view.hex}` : ''));
    row.append(body);
    list.append(row);
  }
  return list;
}

/** Each call: what was asked with its arguments, then its answer or error, ticks, time and tokens. */
function calls(views: readonly CallView[]): HTMLElement {
  const list = document.createElement('div');
  list.dataset.testid = 'detail-calls';
  if (views.length === 0) list.textContent = 'none';
  for (const call of views) {
    const row = document.createElement('div');
    row.className = `message call ${call.state}`;
    row.dataset.testid = 'detail-call';
    row.dataset.state = call.state;
    const when =
      call.sentTick === undefined
        ? `refused at t${call.answeredTick}`
        : call.answeredTick === undefined
          ? `t${call.sentTick}, waiting`
          : `t${call.sentTick} → t${call.answeredTick}, ${call.ms} ms`;
    const tokens = call.tokens ? `, ${call.tokens} tokens` : '';
    row.append(element('span', `${call.id} ${call.what} (${when}${tokens})`));
    if (call.args) row.append(element('code', `args ${call.args}`));
    const outcome = call.state === 'error' ? call.error : call.answer;
    if (outcome !== undefined)
      row.append(element('code', `${call.state === 'error' ? 'error' : 'answer'} ${outcome}`));
    list.append(row);
  }
  return list;
}

function element(tag: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}
