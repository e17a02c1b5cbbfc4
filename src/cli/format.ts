// Human-readable lines for runtime events, and the end-of-run summary table.
import type { ModelStatus, RunSummary, RuntimeEvent } from '../supervisor/index.js';
import type { ControlOutput } from './control-stdin.js';
import { oneLine } from './terminal-text.js';

/**
 * The event as text for a terminal: what agents, models and journals said is escaped (issue 26:
 * a log line holding `\x1b]2;…\x07` set the terminal's title), and an event is one line, but for
 * the summary and a model's skipped providers, whose own lines are escaped one by one.
 */
export function formatEvent(event: RuntimeEvent, width: number): string | undefined {
  const text = eventText(event, width);
  if (text === undefined) return undefined;
  return event.type === 'run.end' || event.type === 'model.ready' || event.type === 'model.failed'
    ? text
    : oneLine(text);
}

function eventText(event: RuntimeEvent, width: number): string | undefined {
  const who = (agent: string, tick: number) => `[t${tick}] ${agent.padEnd(width)}`;
  switch (event.type) {
    case 'run.start':
      return `troupe: running "${event.system}": ${event.agents.length} agents, seed ${event.seed}, ${event.backend} backend`;
    case 'agent.spawned':
      return `       ${event.agent.padEnd(width)} ${event.node ? `host started on node "${event.node}"` : event.pid === undefined ? 'host thread started' : `host process started (pid ${event.pid})`}${event.spare ? ', the warm spare' : ''}`;
    case 'host.spare':
    // Restarts and give-ups show as state lines, a shutdown as system.stopping: this is for --json.
    case 'supervisor.decided':
      return undefined;
    case 'agent.state':
      return `${who(event.agent, event.tick)} ${event.state === 'backoff' ? 'waits to restart (backoff)' : `is ${event.state}`}`;
    case 'agent.crashed':
      return `${who(event.agent, event.tick)} CRASHED: ${event.reason}`;
    case 'agent.log':
      return `${who(event.agent, event.tick)} ${event.level === 'info' ? '' : `${event.level}: `}${event.text}`;
    case 'message.dead':
      return `[t${event.tick}] dead letter ${event.id} (${event.from} -> ${event.agent}, ${event.kind}): ${event.reason}`;
    case 'message.rejected':
      return `[t${event.tick}] rejected ${event.id} (${event.from} -> ${event.agent}, ${event.kind}): ${event.reason}`;
    case 'message.reinjected':
      return `dead letter ${event.id} re-injected for ${event.agent}`;
    case 'frame.rejected':
      return `       ${event.agent.padEnd(width)} rejected a frame: ${event.reason}`;
    case 'tick':
      return undefined;
    case 'system.idle':
      return `[t${event.tick}] idle: no agent has mail`;
    case 'run.live':
      return `[t${event.tick}] the recorded run is replayed; live from here`;
    case 'system.stopping':
      return `stopping: ${event.reason}`;
    case 'system.warning':
      return `warning: ${event.text}`;
    case 'system.paused':
      return `[t${event.tick}] paused`;
    case 'system.resumed':
      return `[t${event.tick}] resumed`;
    case 'gpu.spawned':
      return `       gpu-host ${event.node ? `started on node "${event.node}"` : `process started (pid ${event.pid ?? '?'})`}${event.restarts > 0 ? `, restart ${event.restarts}` : ''}`;
    case 'gpu.crashed':
      return `       gpu-host CRASHED: ${event.reason} (${event.pending} requests waiting; they are sent again when it restarts)`;
    case 'gpu.log':
      return `       gpu-host ${event.level === 'info' ? '' : `${event.level}: `}${event.text}`;
    case 'model.ready':
      return `       model ${oneLine(event.model)} ready on ${oneLine(event.provider)} in ${event.loadMs} ms${formatSkipped(event.skipped)}`;
    case 'model.failed':
      return `       model ${oneLine(event.model)} FAILED to load: ${oneLine(event.reason)}${formatSkipped(event.skipped)}`;
    case 'run.end':
      return formatSummary(event.summary);
  }
}

function formatSkipped(skipped: ReadonlyArray<{ provider: string; reason: string }>): string {
  return skipped
    .map((skip) => `\n         skipped ${oneLine(skip.provider)}: ${oneLine(skip.reason)}`)
    .join('');
}

/** One line per model: where it runs and what it did. */
export function formatModels(models: readonly ModelStatus[]): string[] {
  return models.map((model) => {
    const where = model.state === 'ready' ? `on ${model.provider}` : model.state;
    const cached = model.prompts
      ? `, prompt tokens ${model.prompts.cachedPromptTokens} of ${model.prompts.promptTokens} from the prefix cache`
      : '';
    const work = `${model.answered} answered, ${model.errors} errors, ${model.runs} runs, largest batch ${model.largestBatch}${cached}`;
    return oneLine(`  model ${model.name} ${where}: ${work}${model.failure ? ` (${model.failure})` : ''}`);
  });
}

/** Past this many agents, the summary counts states and lists only the agents that crashed. */
export const LARGE_SYSTEM = 50;

function formatSummary(summary: RunSummary): string {
  const all = Object.keys(summary.agents);
  const crashed = all.filter(
    (name) => (summary.agents[name]?.restarts ?? 0) > 0 || summary.agents[name]?.lastCrash,
  );
  const names = all.length > LARGE_SYSTEM ? crashed.slice(0, 20) : all;
  const width = Math.max(5, ...names.map((name) => name.length));
  const states = new Map<string, number>();
  for (const agent of Object.values(summary.agents))
    states.set(agent.state, (states.get(agent.state) ?? 0) + 1);
  const counts = [...states].map(([state, count]) => `${count} ${state}`).join(', ');
  const large =
    all.length > LARGE_SYSTEM
      ? [
          `  ${all.length} agents: ${counts}; ${crashed.length} crashed at least once${crashed.length > names.length ? ` (the first ${names.length} below)` : ''}`,
        ]
      : [];
  const rows = names.map((name) => {
    const agent = summary.agents[name];
    if (!agent) return '';
    const crash = agent.lastCrash ? `  last crash: ${oneLine(agent.lastCrash)}` : '';
    return `  ${name.padEnd(width)}  ${agent.state.padEnd(10)} ${String(agent.delivered).padStart(9)}  ${String(agent.restarts).padStart(8)}${crash}`;
  });
  return [
    '',
    `${summary.ok ? 'run ended' : 'run FAILED'}: ${oneLine(summary.reason)}`,
    ...large,
    ...(names.length === 0
      ? []
      : [
          `  ${'agent'.padEnd(width)}  ${'state'.padEnd(10)} ${'delivered'.padStart(9)}  ${'restarts'.padStart(8)}`,
        ]),
    ...rows,
    ...formatModels(summary.models ?? []),
    `  ticks ${summary.ticks}, envelopes delivered ${summary.delivered}, dead letters ${summary.deadLetters}, rejected frames ${summary.rejectedFrames}`,
    `  trace ${summary.trace}`,
  ].join('\n');
}

export function formatControl(output: ControlOutput): string {
  if (output.type === 'control.ready') return `control: reading commands from standard input\n${output.help}`;
  if (output.type === 'control.ok') return `control: ok ${output.command}`;
  if (output.type === 'control.error') return oneLine(`control: refused ${output.line}: ${output.reason}`);
  if (output.letters.length === 0) return 'dead letters: none';
  const rows = output.letters.map((l) =>
    oneLine(`  ${l.id} (${l.from} -> ${l.to}, ${l.kind}) at tick ${l.tick}: ${l.reason}`),
  );
  return [`dead letters (${output.letters.length}):`, ...rows].join('\n');
}
