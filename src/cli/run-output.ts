// What `troupe run` prints and how it stops: shared by plain runs and dashboard runs.
import { fileURLToPath } from 'node:url';
import type { RuntimeEvent, SystemSpec } from '../supervisor/index.js';
import { formatEvent, LARGE_SYSTEM } from './format.js';
import { terminalText } from './terminal-text.js';

export const HOST_ENTRY = fileURLToPath(new URL('../actors/host-main.js', import.meta.url));
/** The built GPU host entry, for a node that hosts a cluster's GPU host. */
export const GPU_ENTRY = fileURLToPath(new URL('../gpu-host/gpu-host-main.js', import.meta.url));

/**
 * Prints runtime events, as readable lines or JSON objects; `beforeEnd` runs just before the run's
 * summary is printed (a cluster says which nodes are down there, so the summary stays last).
 */
export function eventPrinter(
  spec: SystemSpec,
  json: boolean,
  beforeEnd?: () => void,
): (event: RuntimeEvent) => void {
  const width = Math.max(...spec.agents.map((agent) => agent.name.length));
  // In a large system the lifecycle of every agent would drown the rest on a terminal; crashes,
  // logs and the summary still show (and --json has everything).
  const quiet = !json && spec.agents.length > LARGE_SYSTEM;
  return (event) => {
    // Per-tick events feed the dashboard; on a terminal they would drown everything else.
    if (event.type === 'tick') return;
    if (quiet && (event.type === 'agent.state' || event.type === 'agent.spawned')) return;
    if (event.type === 'run.end') beforeEnd?.();
    const line = json ? JSON.stringify(jsonEvent(event)) : formatEvent(event, width);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
}

/**
 * SIGINT or SIGTERM stops gracefully the first time; a second one exits at once (the hosts notice
 * the closed channel and exit on their own). Returns a function that removes the handlers.
 */
export function onSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let interrupts = 0;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) stop(signal);
    else process.exit(130);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  return () => {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  };
}

// The summary rides along in run.end for the pretty printer; in JSON its totals are enough.
function jsonEvent(event: RuntimeEvent): object {
  if (event.type !== 'run.end') return event;
  const { summary, ...rest } = event;
  return {
    ...rest,
    deadLetters: summary.deadLetters,
    rejectedFrames: summary.rejectedFrames,
    agents: summary.agents,
    ...(summary.models ? { models: summary.models } : {}),
  };
}

/** One line for the user: the event as JSON with --json, else the text. */
export function printLine(json: boolean, event: object, text: string): void {
  process.stdout.write(`${json ? JSON.stringify(event) : terminalText(text)}\n`);
}
