// Continuous batching for text generation. Sequences from different requests share decode steps:
// each step runs every active row once; a finished row leaves at once and, between steps, the
// waiting requests (as many as there is room for) are prefilled in one run and join (their caches
// left-padded to the batch), so a prefill never holds running sequences back by more than one step. Per-row positions and masks keep every
// row's result the same as if it ran alone.

import { errorText } from '../../protocol/index.js';
import { KvBatch, type LayerCache } from './kv-cache.js';
import { type SamplingOptions, sampleToken, seededRandom, seedOf } from './sampler.js';

export interface DecoderStep {
  /** Runs the decoder on `rows` rows of `length` new tokens after `pastLength` cached columns. */
  run(input: {
    ids: BigInt64Array;
    rows: number;
    length: number;
    mask: BigInt64Array;
    positions: BigInt64Array;
    past: LayerCache;
    pastLength: number;
  }): Promise<{ logits: Float32Array; present: LayerCache }>;
  layers: number;
  heads: number;
  headDim: number;
  vocab: number;
}

export interface TextCodec {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export interface Generation {
  id: string;
  promptIds: number[];
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed: number;
  stopStrings: string[];
  stopTokens: Set<number>;
}

export type StopReason = 'eos' | 'stop_token' | 'stop_string' | 'max_tokens' | 'cancelled';

export interface EngineEvents {
  token(id: string, index: number, tokenId: number, text: string): void;
  done(
    id: string,
    result: { text: string; promptTokens: number; tokenIds: number[]; stopReason: StopReason },
  ): void;
  failed(id: string, reason: string): void;
}

interface Row {
  generation: Generation;
  random: () => number;
  tokens: number[];
  text: string;
  /** Position of the next token. */
  position: number;
  cancelled: boolean;
}

export class LlmEngine {
  readonly #decoder: DecoderStep;
  readonly #codec: TextCodec;
  readonly #events: EngineEvents;
  readonly #eos: Set<number>;
  readonly #maxRows: number;
  readonly #waiting: Generation[] = [];
  #rows: Row[] = [];
  #batch: KvBatch;
  #running = false;
  /** Decode steps run, and the most rows one step held (for statistics and tests). */
  steps = 0;
  largestStep = 0;

  constructor(
    decoder: DecoderStep,
    codec: TextCodec,
    events: EngineEvents,
    options: { eos: number[]; maxRows: number },
  ) {
    this.#decoder = decoder;
    this.#codec = codec;
    this.#events = events;
    this.#eos = new Set(options.eos);
    this.#maxRows = Math.max(1, options.maxRows);
    this.#batch = new KvBatch(decoder);
  }

  submit(generation: Generation): void {
    this.#waiting.push(generation);
    if (this.#running) return;
    this.#running = true;
    // Start on the next turn, so that requests arriving together are prefilled together.
    setImmediate(() => void this.#loop());
  }

  cancel(id: string): void {
    const waiting = this.#waiting.findIndex((generation) => generation.id === id);
    if (waiting >= 0) {
      const [generation] = this.#waiting.splice(waiting, 1);
      if (generation) {
        this.#events.done(id, {
          text: '',
          promptTokens: generation.promptIds.length,
          tokenIds: [],
          stopReason: 'cancelled',
        });
      }
    }
    const row = this.#rows.find((candidate) => candidate.generation.id === id);
    if (row) row.cancelled = true;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#rows.length > 0 || this.#waiting.length > 0) {
        const room = this.#maxRows - this.#rows.length;
        if (this.#waiting.length > 0 && room > 0) await this.#prefill(this.#waiting.splice(0, room));
        if (this.#rows.length > 0) await this.#decodeStep();
        // Let cancellations and new requests in between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * One run for the prompts of every request that joins now, left-padded to the longest; each
   * row's first token is sampled and the rows that go on join the batch.
   */
  async #prefill(generations: Generation[]): Promise<void> {
    const { layers, vocab } = this.#decoder;
    const lengths = generations.map((generation) => generation.promptIds.length);
    const width = Math.max(...lengths);
    const rows = generations.length;
    const ids = new BigInt64Array(rows * width);
    const mask = new BigInt64Array(rows * width);
    const positions = new BigInt64Array(rows * width);
    generations.forEach((generation, row) => {
      const pad = width - (lengths[row] as number);
      generation.promptIds.forEach((token, i) => {
        ids[row * width + pad + i] = BigInt(token);
        mask[row * width + pad + i] = 1n;
        positions[row * width + pad + i] = BigInt(i);
      });
    });
    const empty: LayerCache = Array.from({ length: layers }, () => [
      new Float32Array(0),
      new Float32Array(0),
    ]);
    let output: { logits: Float32Array; present: LayerCache };
    try {
      output = await this.#decoder.run({
        ids,
        rows,
        length: width,
        mask,
        positions,
        past: empty,
        pastLength: 0,
      });
    } catch (error) {
      for (const generation of generations) this.#events.failed(generation.id, errorText(error));
      return;
    }
    const keep: number[] = [];
    generations.forEach((generation, index) => {
      const row: Row = {
        generation,
        random: seededRandom(generation.seed || seedOf(generation.id)),
        tokens: [],
        text: '',
        position: lengths[index] as number,
        cancelled: false,
      };
      const last = output.logits.subarray(((index + 1) * width - 1) * vocab, (index + 1) * width * vocab);
      if (this.#accept(row, sampleToken(last, generation.sampling, row.random))) return;
      keep.push(index);
      this.#rows.push(row);
    });
    if (keep.length === 0) return;
    const cache = KvBatch.pick(output.present, this.#decoder, rows, width, keep);
    this.#batch.join(
      cache,
      keep.map((index) => lengths[index] as number),
      width,
    );
  }

  async #decodeStep(): Promise<void> {
    const batch = this.#batch;
    const rows = this.#rows;
    this.steps++;
    this.largestStep = Math.max(this.largestStep, rows.length);
    let output: { logits: Float32Array; present: LayerCache };
    try {
      output = await this.#decoder.run({
        ids: BigInt64Array.from(rows.map((row) => BigInt(row.tokens.at(-1) as number))),
        rows: rows.length,
        length: 1,
        mask: batch.nextMask(),
        positions: BigInt64Array.from(rows.map((row) => BigInt(row.position))),
        past: batch.cache,
        pastLength: batch.length,
      });
    } catch (error) {
      for (const row of rows) this.#events.failed(row.generation.id, errorText(error));
      this.#rows = [];
      this.#batch = new KvBatch(this.#decoder);
      return;
    }
    batch.advance(output.present);
    const vocab = this.#decoder.vocab;
    const keep: number[] = [];
    rows.forEach((row, index) => {
      row.position++;
      const logits = output.logits.subarray(index * vocab, (index + 1) * vocab);
      if (!this.#accept(row, sampleToken(logits, row.generation.sampling, row.random))) keep.push(index);
    });
    if (keep.length < rows.length) {
      this.#rows = keep.map((index) => rows[index] as Row);
      batch.keep(keep);
    }
  }

  /** Takes a sampled token for the row; returns true when the row has finished. */
  #accept(row: Row, token: number): boolean {
    const { generation } = row;
    const finish = (stopReason: StopReason) => {
      this.#events.done(generation.id, {
        text: row.text,
        promptTokens: generation.promptIds.length,
        tokenIds: row.tokens,
        stopReason,
      });
      return true;
    };
    if (row.cancelled) return finish('cancelled');
    if (this.#eos.has(token)) return finish('eos');
    if (generation.stopTokens.has(token)) return finish('stop_token');
    row.tokens.push(token);
    const text = this.#codec.decode(row.tokens);
    const stop = generation.stopStrings.map((s) => text.indexOf(s)).filter((at) => at >= 0);
    const cut = stop.length > 0 ? Math.min(...stop) : -1;
    const visible = cut >= 0 ? text.slice(0, cut) : text;
    // A character still being spelled out in bytes decodes as U+FFFD; wait for the rest of it.
    const settled = visible.endsWith('\uFFFD') ? row.text : visible;
    let piece = '';
    if (settled.startsWith(row.text)) {
      piece = settled.slice(row.text.length);
      row.text = settled;
    }
    this.#events.token(generation.id, row.tokens.length - 1, token, piece);
    if (cut >= 0) {
      row.text = visible;
      return finish('stop_string');
    }
    if (row.tokens.length >= generation.maxNewTokens) {
      row.text = text;
      return finish('max_tokens');
    }
    return false;
  }
}
