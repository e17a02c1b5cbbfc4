// Continuous batching for text generation. Sequences from different requests share decode steps:
// each step runs every active row once; a finished row leaves at once and, between steps, the
// waiting requests (as many as there is room for) are prefilled and join (their caches left-padded
// to the batch), so a prefill never holds running sequences back by more than one step. With a
// prefix cache, a prompt is prefilled only past the blocks the cache holds (prefill.ts,
// prefix-cache.ts). Per-row positions and masks keep every row's result the same as if it ran
// alone.

import { errorText } from '../../protocol/index.js';
import { KvBatch, type LayerCache } from './kv-cache.js';
import { KvSlab } from './kv-slab.js';
import { closeGaps, prefillInputs, sharedPrefix } from './prefill.js';
import { type CachedPrefix, PrefixCache } from './prefix-cache.js';
import { type SamplingOptions, sampleToken, seededRandom, seedOf } from './sampler.js';

export interface DecoderStep {
  /**
   * Runs the decoder on `rows` rows of `length` new tokens after `pastLength` cached columns.
   * With `onlyAdded` (a decoder with `newColumns`), the cache is not returned whole: `added` holds
   * the new tokens' keys and values alone and `present` is empty.
   */
  run(input: {
    ids: BigInt64Array;
    rows: number;
    length: number;
    mask: BigInt64Array;
    positions: BigInt64Array;
    past: LayerCache;
    pastLength: number;
    onlyAdded?: boolean;
  }): Promise<{ logits: Float32Array; present: LayerCache; added?: LayerCache }>;
  /** Whether it outputs the new tokens' keys and values alone (the cache can stay in place). */
  newColumns?: boolean;
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
    result: {
      text: string;
      promptTokens: number;
      /** Prompt tokens whose keys and values came from the prefix cache (not prefilled). */
      cachedPromptTokens: number;
      tokenIds: number[];
      stopReason: StopReason;
    },
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
  cachedPromptTokens: number;
}

/** What one prefill run gives: logits of every new position, and each row's cache. */
interface Forward {
  logits: Float32Array;
  /** [rows, heads, width, headDim] per layer, each row's columns right-aligned. */
  present: LayerCache;
  width: number;
  /** Each row's real length (cached prefix and new tokens). */
  lengths: number[];
  /** New positions per row (the logits' second dimension). */
  newTokens: number;
}

export interface PrefixCacheOptions {
  /** Tokens per cached block. */
  blockTokens: number;
  /** Most bytes of keys and values held. */
  maxBytes: number;
}

export class LlmEngine {
  readonly #decoder: DecoderStep;
  readonly #codec: TextCodec;
  readonly #events: EngineEvents;
  readonly #eos: Set<number>;
  readonly #maxRows: number;
  readonly #waiting: Generation[] = [];
  #rows: Row[] = [];
  #batch: KvBatch | KvSlab;
  /** Decode steps keep the cache in place (the decoder outputs the new columns alone). */
  readonly #inPlace: boolean;
  #running = false;
  readonly #prefix: PrefixCache | undefined;
  /** Decode steps run, and the most rows one step held (for statistics and tests). */
  steps = 0;
  largestStep = 0;

  constructor(
    decoder: DecoderStep,
    codec: TextCodec,
    events: EngineEvents,
    options: {
      eos: number[];
      maxRows: number;
      prefixCache?: PrefixCacheOptions | undefined;
      /** Keep the cache in place when the decoder allows it (default true; false: copied each step). */
      inPlace?: boolean;
    },
  ) {
    this.#decoder = decoder;
    this.#codec = codec;
    this.#events = events;
    this.#eos = new Set(options.eos);
    this.#maxRows = Math.max(1, options.maxRows);
    this.#inPlace = (options.inPlace ?? true) && decoder.newColumns === true;
    this.#batch = this.#newBatch();
    this.#prefix = options.prefixCache ? new PrefixCache(decoder, options.prefixCache) : undefined;
  }

  /** The prefix cache's counters (none when it is off). */
  get prefixStats(): PrefixCache['stats'] | undefined {
    return this.#prefix?.stats;
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
          cachedPromptTokens: 0,
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
   * Prefills the requests that join now and starts them. With a prefix cache, prompt blocks that
   * several of them share are prefilled once first, and each request is prefilled only past the
   * blocks the cache holds (requests that start with the same cached blocks run together).
   */
  async #prefill(generations: Generation[]): Promise<void> {
    const cache = this.#prefix;
    if (!cache) {
      await this.#prefillGroup(generations, undefined);
      return;
    }
    await this.#warmShared(cache, generations);
    const groups = new Map<object | undefined, { prefix: CachedPrefix; generations: Generation[] }>();
    for (const generation of generations) {
      const prefix = cache.match(generation.promptIds);
      cache.use(prefix, generation.promptIds.length);
      const group = groups.get(prefix.last) ?? { prefix, generations: [] };
      group.generations.push(generation);
      groups.set(prefix.last, group);
    }
    for (const { prefix, generations: group } of groups.values()) await this.#prefillGroup(group, prefix);
  }

  /**
   * One run for the prompts of the requests that share `prefix` (none: they start from nothing),
   * left-padded to the longest; each row's first token is sampled and the rows that go on join the
   * batch.
   */
  async #prefillGroup(generations: Generation[], prefix: CachedPrefix | undefined): Promise<void> {
    const cached = prefix?.tokens ?? 0;
    let output: Forward;
    try {
      output = await this.#forward(
        generations.map((generation) => generation.promptIds.slice(cached)),
        prefix,
      );
    } catch (error) {
      for (const generation of generations) this.#events.failed(generation.id, errorText(error));
      return;
    }
    const { vocab } = this.#decoder;
    const { logits, present, width, lengths, newTokens } = output;
    const keep: number[] = [];
    generations.forEach((generation, index) => {
      this.#prefix?.insert(generation.promptIds, present, index, width);
      const row: Row = {
        generation,
        random: seededRandom(generation.seed || seedOf(generation.id)),
        tokens: [],
        text: '',
        position: lengths[index] as number,
        cancelled: false,
        cachedPromptTokens: cached,
      };
      const last = logits.subarray(((index + 1) * newTokens - 1) * vocab, (index + 1) * newTokens * vocab);
      if (this.#accept(row, sampleToken(last, generation.sampling, row.random))) return;
      keep.push(index);
      this.#rows.push(row);
    });
    if (keep.length === 0) return;
    const rows = KvBatch.pick(present, this.#decoder, generations.length, width, keep);
    this.#batch.join(
      rows,
      keep.map((index) => lengths[index] as number),
      width,
    );
  }

  /**
   * Prefills once, into the cache, the longest run of whole prompt blocks that two or more of the
   * joining requests share and the cache does not hold yet; again until none is left.
   */
  async #warmShared(cache: PrefixCache, generations: readonly Generation[]): Promise<void> {
    for (;;) {
      const shared = sharedPrefix(cache, generations);
      if (!shared) return;
      // Looked up with one token more, so that all of `shared` may count as cached.
      const held = () => cache.match([...shared, -1]).tokens;
      const before = held();
      const prefix = cache.match(shared);
      try {
        const { present, width } = await this.#forward([shared.slice(prefix.tokens)], prefix);
        cache.insert(shared, present, 0, width);
      } catch {
        return; // The requests' own prefill reports the failure.
      }
      // The bound left no room: prefill them without it.
      if (held() <= before) return;
    }
  }

  /**
   * Runs the decoder over each row's tokens after `prefix` (shared by every row), left-padded to
   * the longest; returns the logits of every new position and each row's cache with its real
   * columns right-aligned (left-padded), as the batch keeps them.
   */
  async #forward(suffixes: number[][], prefix: CachedPrefix | undefined): Promise<Forward> {
    const { layers } = this.#decoder;
    const rows = suffixes.length;
    const cached = prefix?.tokens ?? 0;
    const { ids, mask, positions, suffixLengths, newTokens } = prefillInputs(suffixes, cached);
    const past: LayerCache =
      prefix && cached > 0
        ? (this.#prefix?.kvOf(prefix, rows) ?? [])
        : Array.from({ length: layers }, () => [new Float32Array(0), new Float32Array(0)]);
    const output = await this.#decoder.run({
      ids,
      rows,
      length: newTokens,
      mask,
      positions,
      past,
      pastLength: cached,
    });
    const width = cached + newTokens;
    const present =
      cached > 0
        ? closeGaps(output.present, this.#decoder, suffixLengths, cached, newTokens)
        : output.present;
    return {
      logits: output.logits,
      present,
      width,
      lengths: suffixLengths.map((length) => cached + length),
      newTokens,
    };
  }

  async #decodeStep(): Promise<void> {
    const batch = this.#batch;
    const rows = this.#rows;
    this.steps++;
    this.largestStep = Math.max(this.largestStep, rows.length);
    let output: { logits: Float32Array; present: LayerCache; added?: LayerCache };
    try {
      output = await this.#decoder.run({
        ids: BigInt64Array.from(rows.map((row) => BigInt(row.tokens.at(-1) as number))),
        rows: rows.length,
        length: 1,
        mask: batch.nextMask(),
        positions: BigInt64Array.from(rows.map((row) => BigInt(row.position))),
        past: batch.cache,
        pastLength: batch.length,
        onlyAdded: batch instanceof KvSlab,
      });
    } catch (error) {
      for (const row of rows) this.#events.failed(row.generation.id, errorText(error));
      this.#rows = [];
      this.#batch = this.#newBatch();
      return;
    }
    if (batch instanceof KvSlab) batch.append(output.added ?? []);
    else batch.advance(output.present);
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

  #newBatch(): KvBatch | KvSlab {
    return this.#inPlace ? new KvSlab(this.#decoder, this.#maxRows) : new KvBatch(this.#decoder);
  }

  /** Takes a sampled token for the row; returns true when the row has finished. */
  #accept(row: Row, token: number): boolean {
    const { generation } = row;
    const finish = (stopReason: StopReason) => {
      this.#events.done(generation.id, {
        text: row.text,
        promptTokens: generation.promptIds.length,
        cachedPromptTokens: row.cachedPromptTokens,
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
