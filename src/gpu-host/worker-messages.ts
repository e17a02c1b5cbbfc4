// Messages between the GPU host's main thread and a model's worker thread.
import type { ModelSpecWire } from '../protocol/index.js';
import type { ModelDim } from './model-info.js';
import type { RawTensor } from './stack.js';

export interface WorkerModelSpec {
  name: string;
  path: string;
  providers: string[];
  intraOpThreads: number;
  interOpThreads: number;
  warmup: boolean;
  /** Language models: the prefix cache's bound and block size; absent when it is off. */
  prefixCache?: { maxBytes: number; blockTokens: number } | undefined;
}

export interface ProviderSkipped {
  provider: string;
  reason: string;
}

export type ToWorker =
  | { type: 'load'; spec: WorkerModelSpec }
  | { type: 'run'; id: number; inputs: RawTensor[]; outputs: string[] };

export interface WorkerTensorMeta {
  name: string;
  dtype: string;
  dims: ModelDim[];
}

/** How loading went, from either kind of worker. */
export type WorkerLoaded =
  | {
      type: 'ready';
      provider: string;
      skipped: ProviderSkipped[];
      inputs: WorkerTensorMeta[];
      outputs: WorkerTensorMeta[];
      loadMs: number;
    }
  | { type: 'failed'; reason: string; skipped: ProviderSkipped[] };

/** What a worker needs of a model's config to load it. */
export function workerSpec(spec: ModelSpecWire): WorkerModelSpec {
  return {
    name: spec.name ?? '',
    path: spec.path ?? '',
    providers: spec.providers ?? [],
    intraOpThreads: spec.intraOpThreads ?? 0,
    interOpThreads: spec.interOpThreads ?? 0,
    warmup: spec.warmup ?? false,
    prefixCache: spec.prefixCacheOff
      ? undefined
      : { maxBytes: Number(spec.prefixCacheBytes ?? 0), blockTokens: spec.prefixBlockTokens || 16 },
  };
}

export type FromWorker =
  | WorkerLoaded
  | { type: 'ran'; id: number; outputs: RawTensor[] }
  | { type: 'run-failed'; id: number; reason: string };

/** Messages to a language model's worker thread. */
export type ToLlmWorker =
  | { type: 'load'; spec: WorkerModelSpec; maxRows: number }
  | { type: 'generate'; id: string; request: Uint8Array }
  | { type: 'cancel'; id: string };

export type FromLlmWorker =
  | WorkerLoaded
  | { type: 'token'; id: string; index: number; tokenId: number; text: string }
  | {
      type: 'done';
      id: string;
      text: string;
      promptTokens: number;
      tokenIds: number[];
      stopReason: string;
      step: number;
      /** The most rows one decode step has held so far. */
      rows: number;
      /** A remote model's count (its token ids are not known); else the token ids' count. */
      generatedTokens?: number;
      /** Prompt tokens taken from the prefix cache, and the bytes it holds now. */
      cachedPromptTokens?: number;
      prefixCacheBytes?: number;
      /** The tools a remote model called. */
      toolCalls?: Array<{ id: string; name: string; arguments: string }>;
    }
  | {
      type: 'gen-failed';
      id: string;
      code: 'BAD_REQUEST' | 'TOO_LONG' | 'RUN_FAILED' | 'TIMED_OUT' | 'REMOTE_FAILED';
      reason: string;
    };
