// The supervisor window: the supervision tree with live states, mailboxes, rates, restarts and
// crashes; models; dead letters; a filterable message trace, agent logs, an event timeline,
// charts and one agent in depth; and the controls. Snapshots arrive a few times a second; drawing
// is coalesced to one per animation frame and lists are virtualised.
import {
  type Command,
  MAX_INJECT_BYTES,
  type ServerMessage,
  type Snapshot,
  type TickView,
  type TraceEntry,
  type TravelInfo,
  type TreeRow,
} from '../dashboard/wire.js';
import { ChartsPanel } from './charts-panel.js';
import { drawAgentAtTick, drawDetail } from './detail-panel.js';
import { byId, cell } from './dom.js';
import { LogsPanel } from './logs-panel.js';
import { tabs } from './tabs.js';
import { TimelinePanel } from './timeline-panel.js';
import { connect } from './transport.js';
import { TravelMode } from './travel-mode.js';
import { renderTreeRow } from './tree-row.js';
import { VirtualList } from './virtual-list.js';

const TRACE_KEPT = 5000;

let snapshot: Snapshot | undefined;
let trace: TraceEntry[] = [];
let run = 0;
let session = '';
let filter = '';
let drawing = false;
/** The agent the Agent tab shows, if one was chosen. */
let detailAgent: string | undefined;
let tab = 'trace';

const transport = connect();
const footer = byId('footer');
const logs = new LogsPanel();
const charts = new ChartsPanel();
const showTab = tabs(byId('tabs'), (name) => {
  tab = name;
  charts.show(name === 'charts');
  // A list measured while hidden drew no rows: draw again now that it shows.
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(draw);
  }
  if (name === 'detail') void refreshDetail();
});
const timeline = new TimelinePanel((entry) => {
  if (entry.agent) openDetail(entry.agent);
  // After the Agent tab's own refresh: the latest seek wins.
  if (travel && entry.tick !== undefined) void travel.seek(entry.tick);
});
/** Set when the server offers a recorded run (time travel) instead of a live one. */
let travel: TravelMode | undefined;
let travelInfo: TravelInfo | undefined;

function startTravel(info: TravelInfo): void {
  travelInfo = info;
  timeline.reset();
  timeline.add(info.marks);
  travel = new TravelMode(info, transport, {
    show: showTick,
    agent: () => (tab === 'detail' ? detailAgent : undefined),
    say,
  });
  void travel.seek(info.openAt);
}

/** The recorded system at one tick, drawn by the same panels as a live one. */
function showTick(view: TickView): void {
  const info = travelInfo as TravelInfo;
  trace = view.deliveries;
  logs.reset();
  logs.add(view.logs);
  snapshot = {
    session: 'travel',
    system: info.system,
    file: info.journal,
    seq: (snapshot?.seq ?? 0) + 1,
    run: 1,
    tick: view.tick,
    paused: true,
    idle: false,
    rows: info.rows,
    agents: view.agents.map((agent) => ({
      name: agent.name,
      state: agent.state,
      mailbox: agent.mailboxDepth,
      delivered: agent.received.length,
      restarts: agent.restarts,
      rate: [],
    })),
    deadLetters: { count: 0, recent: [] },
    models: [],
    rate: 0,
    trace: view.deliveries,
    traceDropped: 0,
    logs: view.logs,
    logsDropped: 0,
    timeline: [],
    samples: [],
  };
  const shown = view.agents.find((agent) => agent.name === detailAgent);
  if (tab === 'detail' && shown) drawAgentAtTick(shown, view.tick);
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(draw);
  }
}

function openDetail(agent: string): void {
  detailAgent = agent;
  showTab('detail');
}

let detailAsked = false;
async function refreshDetail(): Promise<void> {
  if (travel) {
    if (detailAgent !== undefined) await travel.seek(travel.tick);
    return;
  }
  if (detailAgent === undefined || detailAsked) return;
  detailAsked = true;
  const result = await transport.request({ op: 'detail', agent: detailAgent });
  detailAsked = false;
  if (result.detail) drawDetail(result.detail);
  else if (result.error) say(`refused: ${result.error}`, true);
}

function say(text: string, error = false): void {
  footer.textContent = text;
  footer.classList.toggle('error', error);
}

async function send(command: Command, done: string): Promise<void> {
  const error = await transport.command(command);
  if (error) say(`refused: ${error}`, true);
  else say(done);
}

transport.onStatus((status) => say(status));
transport.onMessage((message: ServerMessage) => {
  if (message.type === 'travel') {
    startTravel(message.travel);
    return;
  }
  if (message.type !== 'snapshot') return;
  const next = message.snapshot;
  if (next.run !== run || next.session !== session) {
    run = next.run;
    session = next.session;
    trace = [];
    logs.reset();
    timeline.reset();
    charts.reset();
  }
  logs.add(next.logs);
  timeline.add(next.timeline);
  charts.add(next.samples);
  trace.push(...next.trace);
  if (trace.length > TRACE_KEPT) trace = trace.slice(-TRACE_KEPT);
  snapshot = next;
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(draw);
  }
});

const agentsByName = () => new Map((snapshot?.agents ?? []).map((agent) => [agent.name, agent]));

const tree = new VirtualList<TreeRow>(byId('tree'), {
  rowHeight: 28,
  key: (row) => `${row.kind}:${row.name}`,
  render: (row, element) =>
    renderTreeRow(row, element, agentsByName().get(row.name), {
      open: openDetail,
      act: (op, agent) => void send({ op, agent }, `${op}: ${agent}`),
      readOnly: () => travel !== undefined,
    }),
});

const traceList = new VirtualList<TraceEntry>(byId('trace'), {
  rowHeight: 22,
  follow: true,
  key: (entry) => String(entry.n),
  render: (entry, element) => {
    element.replaceChildren();
    element.dataset.testid = 'trace-row';
    cell(element, 'num', `t${entry.tick}`);
    cell(element, 'name', entry.from);
    cell(element, 'name', `→ ${entry.to}`);
    cell(element, 'name', entry.kind);
    // A call's answer says which call it ends and how long it took.
    const shown = entry.call ?? entry.text ?? `${entry.bytes} bytes`;
    cell(element, 'name', shown).title = shown;
    if (entry.call) element.dataset.call = 'answer';
  },
});

const deadList = new VirtualList<Snapshot['deadLetters']['recent'][number]>(byId('dead'), {
  rowHeight: 22,
  follow: true,
  key: (letter) => letter.id,
  render: (letter, element) => {
    element.replaceChildren();
    const text = `t${letter.tick} ${letter.id} ${letter.from} → ${letter.to} (${letter.kind}): ${letter.reason}`;
    const resend = document.createElement('button');
    resend.textContent = 're-send';
    resend.className = 'resend';
    resend.title = `send ${letter.id} again, as ${letter.from}`;
    resend.addEventListener(
      'click',
      () => void send({ op: 'reinject', id: letter.id }, `re-sent ${letter.id}`),
    );
    element.append(resend);
    // The whole reason, also when the row cuts it.
    cell(element, 'name', text).title = text;
  },
});

function draw(): void {
  drawing = false;
  const current = snapshot;
  if (!current) return;
  byId('system').textContent = current.system;
  // Lets tests wait for "a snapshot made after X" instead of for time to pass.
  document.body.dataset.seq = String(current.seq);
  byId('tick').textContent = String(current.tick);
  // Said as it is: ended, paused, idle (nothing to do until something comes in) or running.
  const kind = current.ended ? 'stopped' : current.paused ? 'paused' : current.idle ? 'idle' : 'running';
  const state = current.ended
    ? `ended: ${current.ended.reason}`
    : current.paused && current.idle
      ? 'paused, idle'
      : kind;
  const badge = byId('run-state');
  badge.textContent = travel ? `time travel: tick ${current.tick} of ${travelInfo?.lastTick}` : state;
  badge.className = `badge ${travel ? 'paused' : kind}`;
  byId('rate').textContent = travel
    ? `${current.trace.length} deliveries at this tick`
    : `${current.rate.toFixed(0)} deliveries/s`;
  byId<HTMLButtonElement>('pause').disabled = current.paused || !!current.ended;
  byId<HTMLButtonElement>('resume').disabled = !current.paused || !!current.ended;
  byId<HTMLButtonElement>('step').disabled = !current.paused || !!current.ended;
  tree.setItems(current.rows);
  syncOptions(
    byId<HTMLSelectElement>('inject-to'),
    current.agents.map((agent) => agent.name),
    false,
  );
  syncOptions(
    byId<HTMLSelectElement>('trace-filter'),
    current.agents.map((agent) => agent.name),
    true,
  );
  const shown = filter ? trace.filter((entry) => entry.to === filter || entry.from === filter) : trace;
  traceList.setItems(shown);
  byId('trace-count').textContent =
    `${shown.length} shown${current.traceDropped ? `, ${current.traceDropped} skipped under load` : ''}`;
  byId('dead-count').textContent = String(current.deadLetters.count);
  deadList.setItems(current.deadLetters.recent);
  drawModels(current);
  syncOptions(
    byId<HTMLSelectElement>('logs-agent'),
    [...current.agents.map((agent) => agent.name), ...(current.gpu ? ['@gpu'] : [])],
    true,
  );
  logs.draw(current.logsDropped);
  timeline.draw();
  charts.draw();
  if (tab === 'detail' && !travel) void refreshDetail();
}

function syncOptions(select: HTMLSelectElement, names: readonly string[], withAll: boolean): void {
  const wanted = withAll ? ['', ...names] : names;
  const have = [...select.options].map((option) => option.value);
  if (have.join('\n') === wanted.join('\n')) return;
  const selected = select.value;
  select.replaceChildren(
    ...wanted.map((name) => {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name || 'all agents';
      return option;
    }),
  );
  if (wanted.includes(selected)) select.value = selected;
}

/** A language model's prefix cache: the share of prompt tokens it held, and its bytes. */
function prefixCache(prompts: Snapshot['models'][number]['prompts']): string {
  if (!prompts) return '';
  const share =
    prompts.promptTokens > 0 ? Math.round((100 * prompts.cachedPromptTokens) / prompts.promptTokens) : 0;
  return `${share}% of prompt tokens, ${(prompts.cacheBytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function drawModels(current: Snapshot): void {
  const table = byId('models');
  byId('gpu').textContent = current.gpu
    ? `GPU host ${current.gpu.state}${current.gpu.pid ? ` (pid ${current.gpu.pid})` : ''}`
    : 'none declared';
  const header = [
    'model',
    'state',
    'provider',
    'answered',
    'errors',
    'runs',
    'largest batch',
    'queue',
    'prefix cache',
  ];
  const rows = current.models.map((model) => [
    model.name,
    model.state,
    model.provider,
    String(model.answered),
    String(model.errors),
    String(model.runs),
    String(model.largestBatch),
    String(model.pending),
    prefixCache(model.prompts),
  ]);
  table.replaceChildren(
    ...[header, ...rows].map((values, index) => {
      const tr = document.createElement('tr');
      for (const value of values) {
        const td = document.createElement(index === 0 ? 'th' : 'td');
        td.textContent = value;
        tr.append(td);
      }
      const skipped = current.models[index - 1]?.skipped ?? [];
      if (skipped.length > 0) tr.title = skipped.map((skip) => `${skip.provider}: ${skip.reason}`).join('\n');
      return tr;
    }),
  );
}

byId('pause').addEventListener('click', () => void send({ op: 'pause' }, 'paused'));
byId('resume').addEventListener('click', () => void send({ op: 'resume' }, 'resumed'));
byId('step').addEventListener('click', () => void send({ op: 'step' }, 'stepped one tick'));
byId('reload').addEventListener('click', () => void send({ op: 'reload' }, 'config reloaded'));
byId<HTMLSelectElement>('trace-filter').addEventListener('change', (event) => {
  filter = (event.target as HTMLSelectElement).value;
  draw();
});
byId<HTMLFormElement>('inject').addEventListener('submit', (event) => {
  event.preventDefault();
  const to = byId<HTMLSelectElement>('inject-to').value;
  const kind = byId<HTMLInputElement>('inject-kind').value;
  const text = byId<HTMLInputElement>('inject-text').value;
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_INJECT_BYTES) {
    say(
      `refused: the text is ${bytes} bytes of UTF-8, above the ${MAX_INJECT_BYTES} an inject may carry`,
      true,
    );
    return;
  }
  void send({ op: 'inject', to, kind, text }, `sent ${kind} to ${to}`);
});
