// What a running system reports: the CLI prints these (one JSON object per line with --json).
import type { LifecycleState } from './lifecycle-machine.js';

export type RuntimeEvent =
  | { type: 'run.start'; system: string; agents: string[]; seed: number; backend: string }
  /** A host was started for the agent (`spare`: it took the host started ahead of need). */
  | { type: 'agent.spawned'; agent: string; pid: number | undefined; spare?: boolean; node?: string }
  /** A host was started ahead of need (a warm spare); an agent's restart will take it. */
  | { type: 'host.spare'; isolation: 'process' | 'thread'; pid: number | undefined }
  | { type: 'agent.state'; agent: string; state: LifecycleState; tick: number }
  | { type: 'agent.crashed'; agent: string; reason: string; tick: number; restarts: number }
  | { type: 'agent.log'; agent: string; level: string; text: string; tick: number }
  /** A supervisor decided after an exit: restart these agents, retire them, or stop the system. */
  | {
      type: 'supervisor.decided';
      decision: 'restart' | 'retire' | 'shutdown';
      agents: string[];
      reason: string;
      tick: number;
    }
  /** The envelope will not be delivered: dead-lettered, or refused by a full mailbox (sender told). */
  | ({ type: 'message.dead' | 'message.rejected' } & UndeliveredReport)
  | { type: 'message.reinjected'; id: string; agent: string }
  | { type: 'frame.rejected'; agent: string; reason: string }
  /** A tick was handed out: which agents got a batch, and how many envelopes in all. */
  | { type: 'tick'; tick: number; agents: string[]; envelopes: number }
  | { type: 'system.idle'; tick: number }
  /** Resuming: the recorded ticks are replayed; from `tick` on the run is live (and journaled). */
  | { type: 'run.live'; tick: number }
  | { type: 'gpu.spawned'; pid: number | undefined; restarts: number; node?: string }
  | { type: 'gpu.crashed'; reason: string; restarts: number; pending: number }
  | { type: 'gpu.log'; level: string; text: string }
  /** The tool host started (issue 28); its servers report as they come up or fail. */
  | { type: 'tools.spawned'; pid: number | undefined; restarts: number }
  | { type: 'tools.crashed'; reason: string; restarts: number }
  | { type: 'tool.ready'; server: string; tools: string[]; pid: number; restarts: number }
  | { type: 'tool.failed'; server: string; reason: string }
  /** A generation ended with its result: its prompt's tokens, those the prefix cache held, and the text's. */
  | {
      type: 'generation.done';
      model: string;
      request: string;
      promptTokens: number;
      cachedPromptTokens: number;
      generatedTokens: number;
      stopReason: string;
    }
  /** A call went to the tool host (`id`: the calling envelope's, which its answer correlates to). */
  | { type: 'tool.call'; id: string; server: string; tool: string }
  /** A model loaded: the provider it runs on and why each preferred one was passed over. */
  | {
      type: 'model.ready';
      model: string;
      provider: string;
      skipped: ProviderSkip[];
      inputs: string[];
      outputs: string[];
      loadMs: number;
      batching: boolean;
    }
  | { type: 'model.failed'; model: string; reason: string; skipped: ProviderSkip[] }
  | { type: 'system.stopping'; reason: string }
  /** Something the operator should know that changes nothing in the run (e.g. a module cache not used). */
  | { type: 'system.warning'; text: string }
  | { type: 'system.paused' | 'system.resumed'; tick: number }
  | {
      type: 'run.end';
      ok: boolean;
      reason: string;
      ticks: number;
      delivered: number;
      trace: string;
      summary: RunSummary;
    };

/** An agent as the supervisor sees it now (for dashboards). */
export interface AgentStatus {
  name: string;
  state: string;
  mailbox: number;
  delivered: number;
  restarts: number;
  lastCrash?: string;
  /** What its last batch used of its limits: the most fuel one message took, memory pages after. */
  usage?: { fuelUsed: number; memoryPages: number };
}

export interface ProviderSkip {
  provider: string;
  reason: string;
}

export interface UndeliveredReport {
  /** The intended recipient. */
  agent: string;
  id: string;
  from: string;
  kind: string;
  reason: string;
  tick: number;
}

export interface AgentSummary {
  state: LifecycleState;
  restarts: number;
  delivered: number;
  lastCrash?: string;
}

export interface RunSummary {
  ok: boolean;
  reason: string;
  ticks: number;
  delivered: number;
  deadLetters: number;
  rejectedFrames: number;
  /** SHA-256 over every batch handed to an agent, in tick and rank order. */
  trace: string;
  agents: Record<string, AgentSummary>;
  /** The models the GPU host served, when the system declares any. */
  models?: ModelStatus[];
  /**
   * A replay that departed from its recording: the first difference, and the tick whose
   * deliveries or agents' states differed (none when it went idle before the recording's end).
   */
  divergence?: { reason: string; tick?: number };
}

/** What the supervisor knows of one model, for the summary, `troupe models` and the dashboard. */
export interface ModelStatus {
  name: string;
  state: 'loading' | 'ready' | 'failed';
  provider: string;
  skipped: Array<{ provider: string; reason: string }>;
  failure?: string;
  /** Requests answered with a result, and with an error. */
  answered: number;
  errors: number;
  /** Runs of the model (a batch counts once) and the most rows one run held. */
  runs: number;
  largestBatch: number;
  /**
   * Language models: prompt tokens of the generations answered, those whose keys and values came
   * from the prefix cache, and the bytes the cache holds now.
   */
  prompts?: { promptTokens: number; cachedPromptTokens: number; cacheBytes: number };
}
