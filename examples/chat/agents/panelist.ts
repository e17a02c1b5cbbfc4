// One voice of the panel: on each "turn" it asks the language model for its part (its role as
// the system message, what it heard as the user's), streams the tokens, and answers the moderator
// with the text. Every panelist gets its turn in the same tick, so the GPU host generates for all
// of them at once (continuous batching).
import {
  defineAgent,
  GENERATE_DONE,
  GENERATE_TOKEN,
  type GenerateOptions,
  INFER_ERROR,
  readGeneratedToken,
  readGeneration,
  readInferError,
} from 'troupe/agent';

interface Settings {
  model: string;
  role: string;
  options: GenerateOptions;
}

interface Turn {
  round: number;
  text: string;
}

interface State {
  settings: Settings;
  /** The request in flight, and the turn it answers. */
  request: string;
  turn: { from: string; id: string; round: number; heard: string } | null;
  tokens: number;
}

/** What every voice of the panel is told first. */
const PANEL =
  'You are one voice of a panel of three agents under a supervisor. The moderator gives each of you the topic at the same time; answer in one or two short sentences, in your own voice, and do not repeat the others.';

export default defineAgent<State, { turn: Turn }>({
  state: { settings: { model: 'tiny', role: 'writer', options: {} }, request: '', turn: null, tokens: 0 },
  init(ctx, data) {
    ctx.state.settings = data.json() as Settings;
  },
  on: {
    turn(message, ctx) {
      const { round, text } = message.json();
      const { model, role, options } = ctx.state.settings;
      ctx.state.turn = { from: message.from, id: message.id, round, heard: text };
      ctx.state.tokens = 0;
      ctx.state.request = ctx.generate(
        model,
        [
          // The same opening for every voice: the model's prefix cache computes it once.
          { role: 'system', content: `${PANEL} You are the ${role}.` },
          { role: 'user', content: text },
        ],
        { ...options, stop: ['\n\n'] },
      );
    },
    [GENERATE_TOKEN](message, ctx) {
      if (readGeneratedToken(message).request === ctx.state.request) ctx.state.tokens++;
    },
    [GENERATE_DONE](message, ctx) {
      const answer = readGeneration(message);
      const turn = ctx.state.turn;
      if (!turn || answer.request !== ctx.state.request) return;
      const { role } = ctx.state.settings;
      ctx.log(`${role} (round ${turn.round}, ${answer.generatedTokens} tokens, ${answer.stopReason}): ${answer.text}`);
      ctx.send(turn.from, 'answer', { round: turn.round, role, text: answer.text || turn.heard }, { correlationId: turn.id });
      ctx.state.turn = null;
    },
    [INFER_ERROR](message, ctx) {
      const turn = ctx.state.turn;
      ctx.warn(`${ctx.state.settings.role}: the model failed (${readInferError(message).message}); passing the text on`);
      if (turn) ctx.send(turn.from, 'answer', { round: turn.round, role: ctx.state.settings.role, text: turn.heard });
      ctx.state.turn = null;
    },
  },
});
