// `troupe inspect <journal> --tick N [--agent A]`: replays the journal up to tick N and shows what
// each agent received at that tick, what waits in its mailbox after it, and what is on its way.
import { NodeLauncher } from '../launch/index.js';
import { type Envelope, envelopeId, type Output } from '../protocol/index.js';
import { openJournalFor, ReplaySource, Runtime } from '../supervisor/index.js';
import { HOST_ENTRY } from './run-output.js';
import { oneLine } from './terminal-text.js';
import { UsageError } from './usage-error.js';

export interface InspectTickFlags {
  journal: string;
  tick: number;
  agent?: string;
  json: boolean;
  root?: string;
}

interface Shown {
  id?: string;
  from: string;
  kind: string;
  bytes: number;
  text?: string;
}

export async function inspectTick(flags: InspectTickFlags): Promise<number> {
  const { records, spec, checkpointEvery } = openJournalFor(flags.journal, {
    root: flags.root,
    force: false,
    cutTornTail: false,
  });
  const replay = new ReplaySource(records);
  if (flags.tick > replay.lastTick)
    throw new UsageError(`--tick must be at most ${replay.lastTick}, the journal's last tick`);
  const names = spec.agents.map((agent) => agent.name);
  if (flags.agent !== undefined && !names.includes(flags.agent)) {
    throw new UsageError(`no agent named "${flags.agent}" in system "${spec.name}"`);
  }
  const received = new Map<string, readonly Envelope[]>();
  const runtime = new Runtime(spec, {
    launcher: new NodeLauncher(),
    hostEntry: HOST_ENTRY,
    replay,
    maxTicks: flags.tick,
    checkpointEvery,
    onBatch: (tick, agent, envelopes) => {
      if (tick === flags.tick) received.set(agent, envelopes);
    },
  });
  const { divergence } = await runtime.start();
  if (divergence) {
    process.stderr.write(`cannot show tick ${flags.tick}: ${divergence.reason}\n`);
    return 2;
  }
  for (const agent of flags.agent === undefined ? [...names].sort() : [flags.agent]) {
    const { queued, inTransit } = runtime.mailbox(agent);
    const view = {
      type: 'inspect.tick',
      tick: flags.tick,
      agent,
      received: (received.get(agent) ?? []).map(showEnvelope),
      mailbox: queued.map(showEnvelope),
      inTransit: inTransit.map(({ from, output }) => showOutput(from, output)),
    };
    process.stdout.write(`${flags.json ? JSON.stringify(view) : describe(view)}\n`);
  }
  return 0;
}

function showEnvelope(envelope: Envelope): Shown {
  return {
    id: envelopeId(envelope),
    ...payloadView(envelope.from ?? '', envelope.kind ?? '', envelope.payload),
  };
}

function showOutput(from: string, output: Output): Shown {
  return payloadView(from, output.kind ?? '', output.payload);
}

function payloadView(from: string, kind: string, payload: Uint8Array | null | undefined): Shown {
  const bytes = payload?.length ?? 0;
  const text =
    bytes > 0 && bytes <= 80
      ? new TextDecoder('utf-8', { fatal: false }).decode(payload ?? undefined)
      : undefined;
  // Show text only when it is plainly text; binary payloads are counted, not dumped.
  const printable = text !== undefined && /^[\x20-\x7e\t\n]*$/.test(text);
  return printable ? { from, kind, bytes, text } : { from, kind, bytes };
}

function describe(view: {
  tick: number;
  agent: string;
  received: Shown[];
  mailbox: Shown[];
  inTransit: Shown[];
}): string {
  const list = (title: string, items: Shown[]) => [
    `  ${title} (${items.length})`,
    ...items.map((item) =>
      oneLine(
        `    ${item.id ? `${item.id.padEnd(14)} ` : ''}from ${item.from.padEnd(10)} ${item.kind.padEnd(12)} ${item.bytes} bytes${item.text === undefined ? '' : ` ${JSON.stringify(item.text)}`}`,
      ),
    ),
  ];
  return [
    `tick ${view.tick}, agent "${view.agent}":`,
    ...list('received at this tick', view.received),
    ...list('waiting in its mailbox after it', view.mailbox),
    ...list('sent to it during the tick, arriving next tick', view.inTransit),
  ].join('\n');
}
