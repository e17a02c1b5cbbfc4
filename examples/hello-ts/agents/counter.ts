// Keeps a running total: "add" adds the payload's number, "get" replies with the total.
import { defineAgent } from 'troupe/agent';

export default defineAgent<{ total: number }, { add: number; get: null }>({
  state: { total: 0 },
  init(ctx, data) {
    if (data.size > 0) ctx.state.total = Number(data.text());
  },
  on: {
    add(message, ctx) {
      ctx.state.total += message.size > 0 ? message.json() : 1;
    },
    get(message, ctx) {
      ctx.reply(message, 'count', ctx.state.total);
    },
  },
});
