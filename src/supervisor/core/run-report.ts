// Pure builders of what a run reports: undelivered envelopes and the end-of-run summary.
import { envelopeId } from '../../protocol/index.js';
import type { AgentSlot } from './agent-slot.js';
import type { RunSummary, UndeliveredReport } from './events.js';
import type { DeadLetter } from './scheduler.js';

export function undeliveredReport({ tick, envelope, reason }: DeadLetter): UndeliveredReport {
  const { from, to, kind } = envelope;
  return { agent: to ?? '', id: envelopeId(envelope), from: from ?? '', kind: kind ?? '', reason, tick };
}

export function summarize(slots: Iterable<AgentSlot>, totals: Omit<RunSummary, 'agents'>): RunSummary {
  const agents: RunSummary['agents'] = {};
  for (const { name, state, restarts, delivered, lastCrash } of slots) {
    agents[name] = lastCrash ? { state, restarts, delivered, lastCrash } : { state, restarts, delivered };
  }
  return { ...totals, agents };
}
