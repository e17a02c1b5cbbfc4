// One half of a relay pair: passes a hop counter back and forth with its peer until a limit,
// telling an observer about every hop, and asks the counter for its total after the last one.
import { defineAgent } from 'troupe/agent';

interface Init {
  peer: string;
  limit: number;
  start?: boolean;
  observer?: string;
  counter?: string;
}

export default defineAgent<Init | undefined, { hop: number; count: number }>({
  init(ctx, data) {
    ctx.state = data.json() as Init;
    if (ctx.state.start) ctx.send(ctx.state.peer, 'hop', 1);
  },
  on: {
    hop(message, ctx) {
      const { peer, limit, observer, counter } = ctx.state as Init;
      const hop = message.json();
      if (observer) ctx.send(observer, 'hop', hop);
      if (hop < limit) ctx.send(peer, 'hop', hop + 1);
      else {
        ctx.log(`relay: reached hop ${hop}, the last one`);
        if (counter) ctx.send(counter, 'get', null);
      }
    },
    count(message, ctx) {
      ctx.log(`relay: ${message.from} counted ${message.json()}`);
    },
  },
});
