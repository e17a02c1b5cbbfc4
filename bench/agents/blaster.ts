// Benchmark source in TypeScript, as wasm/agents/blaster.ts: every tick sends `count` envelopes of
// `size` bytes to `to`, and one "go" to itself to keep going.
import { defineAgent } from 'troupe/agent';

interface Settings {
  to: string;
  count: number;
  size: number;
}

let payload = new Uint8Array(16);

export default defineAgent<Settings>({
  state: { to: 'sink', count: 1000, size: 16 },
  init(ctx, data) {
    ctx.state = data.json() as Settings;
    payload = new Uint8Array(ctx.state.size);
    ctx.send(ctx.self, 'go');
  },
  on: {
    go(_message, ctx) {
      const { to, count } = ctx.state;
      for (let i = 0; i < count; i++) ctx.send(to, 'bench', payload);
      ctx.send(ctx.self, 'go');
    },
  },
});
