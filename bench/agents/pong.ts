// Answers each "ping" with a "pong" (bench/agents/ping.ts).
import { defineAgent } from 'troupe/agent';

export default defineAgent({
  on: {
    ping(message, ctx) {
      ctx.reply(message, 'pong', message.text());
    },
  },
});
