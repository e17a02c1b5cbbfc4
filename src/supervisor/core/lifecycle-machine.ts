// Each agent's lifecycle as an XState machine; its state value is what the CLI and UI show.
// The machine only records what happened: the supervisor decides (supervision.ts) and acts.
// It uses no delayed transitions, so XState's own clock and id sources never enter a run.
import { assign, setup } from 'xstate';

export type LifecycleState =
  | 'starting'
  | 'running'
  | 'crashed'
  | 'backoff'
  | 'restarting'
  | 'stopping'
  | 'stopped'
  | 'failed';

export type LifecycleEvent =
  | { type: 'READY' }
  | { type: 'CRASHED'; reason: string }
  | { type: 'RESTART' }
  /** Started again for another's fault: no restart is counted. */
  | { type: 'RELAUNCH' }
  | { type: 'BACKOFF' }
  | { type: 'GIVE_UP'; reason: string }
  | { type: 'FINISHED' }
  | { type: 'STOP' }
  | { type: 'STOPPED' };

export interface LifecycleContext {
  agent: string;
  restarts: number;
  lastCrash: string | undefined;
}

const lifecycleSetup = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as { agent: string },
  },
  actions: {
    recordCrash: assign({
      lastCrash: ({ event }) => ('reason' in event ? event.reason : undefined),
    }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
  },
});

// Starting and restarting answer the same events: both wait for the host's Ready.
const joining = {
  on: {
    READY: 'running',
    CRASHED: { target: 'crashed', actions: 'recordCrash' },
    GIVE_UP: { target: 'failed', actions: 'recordCrash' },
    STOP: 'stopping',
  },
} as const;

export const lifecycleMachine = lifecycleSetup.createMachine({
  id: 'agent-lifecycle',
  context: ({ input }) => ({ agent: input.agent, restarts: 0, lastCrash: undefined }),
  initial: 'starting',
  states: {
    starting: joining,
    running: {
      on: {
        CRASHED: { target: 'crashed', actions: 'recordCrash' },
        FINISHED: 'stopped',
        STOP: 'stopping',
        // A sibling's crash takes it down too (one_for_all, rest_for_one).
        RESTART: { target: 'restarting', actions: 'countRestart' },
        BACKOFF: { target: 'backoff', actions: 'countRestart' },
        RELAUNCH: 'restarting',
      },
    },
    crashed: {
      on: {
        RESTART: { target: 'restarting', actions: 'countRestart' },
        BACKOFF: { target: 'backoff', actions: 'countRestart' },
        GIVE_UP: { target: 'failed', actions: 'recordCrash' },
        STOP: 'stopping',
      },
    },
    restarting: joining,
    // Waiting for the tick the backoff policy fixed; then it restarts.
    backoff: {
      on: {
        RESTART: 'restarting',
        GIVE_UP: { target: 'failed', actions: 'recordCrash' },
        STOP: 'stopping',
      },
    },
    stopping: { on: { STOPPED: 'stopped' } },
    // Not final: a permanent agent that finished normally is restarted from here.
    stopped: {
      on: {
        RESTART: { target: 'restarting', actions: 'countRestart' },
        BACKOFF: { target: 'backoff', actions: 'countRestart' },
        STOP: 'stopped',
      },
    },
    failed: { on: { STOP: 'failed' } },
  },
});
