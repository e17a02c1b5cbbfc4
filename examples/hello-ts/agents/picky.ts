// Passes every hop on to the counter, but throws on one number: a deterministic crash. The
// supervisor restarts it and retries that hop (scheduler.retryLimit), then dead-letters it.
import { defineAgent } from 'troupe/agent';

interface Init {
  counter: string;
  trapOn: number;
}

export default defineAgent<Init, { hop: number }>({
  state: { counter: '', trapOn: -1 },
  init(ctx, data) {
    ctx.state = data.json() as Init;
  },
  on: {
    hop(message, ctx) {
      const hop = message.json();
      if (hop === ctx.state.trapOn) throw new Error(`picky: refusing to handle ${hop}`);
      ctx.send(ctx.state.counter, 'add', hop);
    },
  },
});
