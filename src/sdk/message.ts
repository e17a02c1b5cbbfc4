// A message an agent received. `T` is what its JSON payload holds, as declared by the agent's
// message map (see defineAgent).
import { Data } from './payload.js';

export class Message<T = unknown> extends Data<T> {
  constructor(
    /** The sender's address (an agent name, "@external", "@troupe", or "@gpu/<model>"). */
    readonly from: string,
    readonly kind: string,
    /** "<sender>#<seq>": unique and the same on every run. */
    readonly id: string,
    /** The id of the message this one answers ("" when it answers none). */
    readonly correlationId: string,
    readonly payload: Uint8Array,
  ) {
    super(payload);
  }
}
