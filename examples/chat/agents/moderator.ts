// The moderator: gives every panelist the topic in the same tick, waits for all their answers,
// then starts the next round with what each of the others said; after the last round it thanks
// them and finishes (a transient agent that ends normally).
import { defineAgent } from 'troupe/agent';

interface Settings {
  panel: string[];
  rounds: number;
  topic: string;
}

interface Answer {
  round: number;
  role: string;
  text: string;
}

interface State {
  settings: Settings;
  round: number;
  answers: Record<string, string>;
}

export default defineAgent<State, { answer: Answer }>({
  state: { settings: { panel: [], rounds: 1, topic: '' }, round: 0, answers: {} },
  init(ctx, data) {
    ctx.state.settings = data.json() as Settings;
    ctx.log(`moderator: the model is tiny and random, so the words are nonsense; watch the batches instead`);
    startRound(ctx.state, (to, turn) => ctx.send(to, 'turn', turn), ctx.state.settings.topic);
  },
  on: {
    answer(message, ctx) {
      const { round, role, text } = message.json();
      if (round !== ctx.state.round) return;
      ctx.state.answers[message.from] = `${role}: ${text}`;
      const { panel, rounds } = ctx.state.settings;
      if (Object.keys(ctx.state.answers).length < panel.length) return;
      if (ctx.state.round >= rounds) {
        ctx.log(`moderator: that is ${rounds} rounds; thank you all.`);
        ctx.finish();
        return;
      }
      const heard = panel.map((name) => ctx.state.answers[name]).join('\n');
      startRound(ctx.state, (to, turn) => ctx.send(to, 'turn', turn), heard);
    },
  },
});

function startRound(state: State, send: (to: string, turn: { round: number; text: string }) => void, text: string): void {
  state.round++;
  state.answers = {};
  for (const panelist of state.settings.panel) send(panelist, { round: state.round, text });
}
