// Sends "ping" to "pong" and waits for the answer before the next, as many times as its init data
// says; logs "done" after the last answer (the tools benchmark's floor: one round trip between agents).
import { defineAgent } from 'troupe/agent';

export default defineAgent({
  state: { left: 0 },
  init(ctx, data) {
    ctx.state.left = Number(data.text());
    ctx.send('pong', 'ping', 'hello');
  },
  on: {
    pong(_message, ctx) {
      ctx.state.left--;
      if (ctx.state.left > 0) ctx.send('pong', 'ping', 'hello');
      else ctx.log('done');
    },
  },
});
