// Calls a tool over and over, one call at a time: the next when the answer comes. Init data is
// the number of calls; it logs "done" after the last answer (the benchmark's end mark).
import { defineAgent, TOOL_ERROR, TOOL_RESULT } from 'troupe/agent';

export default defineAgent({
  state: { left: 0 },
  init(ctx, data) {
    ctx.state.left = Number(data.text());
    ctx.callTool('everything', 'echo', { message: 'hello' });
  },
  on: {
    [TOOL_RESULT](_message, ctx) {
      ctx.state.left--;
      if (ctx.state.left > 0) ctx.callTool('everything', 'echo', { message: 'hello' });
      else ctx.log('done');
    },
    [TOOL_ERROR](message, ctx) {
      ctx.error(`tool error: ${message.text()}`);
    },
  },
});
