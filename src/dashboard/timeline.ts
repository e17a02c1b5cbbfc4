// What goes on the window's event timeline: the runtime events an operator looks for when
// something went wrong (crashes, restarts, backoff, give-ups and escalations, dead letters, model
// loads and failures, the GPU host's crashes), each said in one line. Pure: event in, entry out.
import type { RuntimeEvent } from '../supervisor/index.js';
import type { TimelineKind } from './wire.js';

export interface TimelineItem {
  kind: TimelineKind;
  tick?: number;
  agent?: string;
  text: string;
}

export function timelineItem(event: RuntimeEvent): TimelineItem | undefined {
  switch (event.type) {
    case 'agent.crashed':
      return { kind: 'crash', tick: event.tick, agent: event.agent, text: event.reason };
    case 'agent.state':
      if (event.state === 'backoff')
        return { kind: 'backoff', tick: event.tick, agent: event.agent, text: 'waits to restart (backoff)' };
      if (event.state === 'restarting')
        return { kind: 'restart', tick: event.tick, agent: event.agent, text: 'restarting' };
      if (event.state === 'failed')
        return { kind: 'failed', tick: event.tick, agent: event.agent, text: 'failed: will not restart' };
      return undefined;
    case 'supervisor.decided':
      if (event.decision === 'restart') return undefined;
      return {
        kind: 'escalation',
        tick: event.tick,
        text: `${event.decision === 'shutdown' ? 'system shut down' : `gave up on ${event.agents.join(', ')}`}: ${event.reason}`,
      };
    case 'message.dead':
      return {
        kind: 'dead-letter',
        tick: event.tick,
        agent: event.agent,
        text: `${event.id} from ${event.from} (${event.kind}): ${event.reason}`,
      };
    case 'message.reinjected':
      return { kind: 'reinjected', agent: event.agent, text: `dead letter ${event.id} sent again` };
    case 'frame.rejected':
      return { kind: 'rejected-frame', agent: event.agent, text: event.reason };
    case 'model.ready':
      return {
        kind: 'model',
        text: `model ${event.model} ready on ${event.provider} (${Math.round(event.loadMs)} ms)`,
      };
    case 'model.failed':
      return { kind: 'model-failed', text: `model ${event.model} failed: ${event.reason}` };
    case 'gpu.crashed':
      return {
        kind: 'gpu-crash',
        text: `GPU host crashed: ${event.reason} (${event.pending} requests waiting)`,
      };
    case 'system.paused':
    case 'system.resumed':
      return {
        kind: 'control',
        tick: event.tick,
        text: event.type === 'system.paused' ? 'paused' : 'resumed',
      };
    case 'system.stopping':
      return { kind: 'control', text: `stopping: ${event.reason}` };
    default:
      return undefined;
  }
}
