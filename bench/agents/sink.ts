// Benchmark sink in TypeScript, as wasm/agents/sink.ts: counts what it receives.
import { defineAgent } from 'troupe/agent';

export default defineAgent<{ received: number }>({
  state: { received: 0 },
  on: {
    get(message, ctx) {
      ctx.reply(message, 'count', ctx.state.received);
    },
  },
  otherwise(_message, ctx) {
    ctx.state.received++;
  },
});
