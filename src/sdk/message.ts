// A message an agent received. `T` is what its JSON payload holds, as declared by the agent's
// message map (see defineAgent). Its addresses and ids are read from the batch when first asked
// for: most handlers never look at them, and decoding text inside the sandbox is not free.
import { Data } from './payload.js';
import { decodeUtf8 } from './utf8.js';

/** Where a message's text fields are in its batch: [start, end] of from, id, correlation id. */
export type TextSpans = readonly [number, number, number, number, number, number];

export class Message<T = unknown> extends Data<T> {
  readonly #batch: Uint8Array;
  readonly #spans: TextSpans;
  #from: string | undefined;
  #id: string | undefined;
  #correlationId: string | undefined;

  constructor(
    readonly kind: string,
    readonly payload: Uint8Array,
    batch: Uint8Array,
    spans: TextSpans,
  ) {
    super(payload);
    this.#batch = batch;
    this.#spans = spans;
  }

  /** The sender's address (an agent name, "@external", "@troupe", or "@gpu/<model>"). */
  get from(): string {
    this.#from ??= decodeUtf8(this.#batch, this.#spans[0], this.#spans[1]);
    return this.#from;
  }

  /** "<sender>#<seq>": unique and the same on every run. */
  get id(): string {
    this.#id ??= decodeUtf8(this.#batch, this.#spans[2], this.#spans[3]);
    return this.#id;
  }

  /** The id of the message this one answers ("" when it answers none). */
  get correlationId(): string {
    this.#correlationId ??= decodeUtf8(this.#batch, this.#spans[4], this.#spans[5]);
    return this.#correlationId;
  }
}
