// Helpers for tests that talk to models: requests built in TypeScript, sent through the proxy agent,
// and the answers read back from what the agents were delivered.
import type { Envelope, Tensor } from '../../src/protocol/index.js';
import {
  decodeInferenceError,
  decodeInferenceResult,
  encodeInferenceRequest,
  INFER_ERROR_KIND,
  INFER_KIND,
  INFER_RESULT_KIND,
} from '../../src/protocol/index.js';

/** The payload that makes the proxy agent send `payload` to `to` with `kind`. */
export function forward(
  to: string,
  payload: Uint8Array,
  kind = INFER_KIND,
  correlationId?: string,
): Uint8Array {
  const head = new TextEncoder().encode(
    `${to}\n${kind}\n${correlationId === undefined ? '' : `${correlationId}\n`}`,
  );
  const bytes = new Uint8Array(head.length + payload.length);
  bytes.set(head);
  bytes.set(payload, head.length);
  return bytes;
}

export function float32Tensor(name: string, dims: number[], values: Float32Array): Tensor {
  return {
    name,
    dtype: 'float32',
    dims,
    data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

export function request(...inputs: Tensor[]): Uint8Array {
  return encodeInferenceRequest({ inputs });
}

/** Seeded values in [-1, 1): the same seed gives the same tensor. */
export function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

export interface Answers {
  /** Every answer delivered to an agent, in delivery order. */
  list: Array<{ agent: string; envelope: Envelope }>;
  onBatch: (tick: number, agent: string, envelopes: readonly Envelope[]) => void;
  results(agent: string): Array<{ id: string; outputs: Tensor[] }>;
  errors(agent: string): Array<ReturnType<typeof decodeInferenceError>>;
}

export function collectAnswers(): Answers {
  const list: Answers['list'] = [];
  return {
    list,
    onBatch: (_tick, agent, envelopes) => {
      for (const envelope of envelopes) {
        if (envelope.kind === INFER_RESULT_KIND || envelope.kind === INFER_ERROR_KIND)
          list.push({ agent, envelope });
      }
    },
    results: (agent) =>
      list
        .filter((answer) => answer.agent === agent && answer.envelope.kind === INFER_RESULT_KIND)
        .map(({ envelope }) => ({
          id: envelope.correlationId ?? '',
          outputs: decodeInferenceResult(envelope.payload ?? new Uint8Array(0)).outputs,
        })),
    errors: (agent) =>
      list
        .filter((answer) => answer.agent === agent && answer.envelope.kind === INFER_ERROR_KIND)
        .map(({ envelope }) => decodeInferenceError(envelope.payload ?? new Uint8Array(0))),
  };
}
