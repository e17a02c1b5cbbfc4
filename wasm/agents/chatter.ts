// One voice of a conversation with a language model served by the GPU host. On "turn" it asks the
// model for its part (its role as the system message, the text so far as the user's), streams the
// tokens, and passes its answer to `next`. The moderator opens, counts rounds and ends the talk.
// Init: model=tiny; role=writer|critic|moderator; next=<agent>; rounds=3; maxTokens=24; topic=...;
// temperaturePercent=0; topK=0; seed=0; cancelAfter=0 (cancel its generation after N tokens).
import {
  ChatMessage,
  cancelGeneration,
  GENERATE_DONE_KIND,
  GENERATE_TOKEN_KIND,
  GenerateOptions,
  generateChat,
  INFER_ERROR_KIND,
  intParam,
  log,
  Message,
  onInit,
  onMessage,
  param,
  readError,
  readGeneration,
  readToken,
  sendText,
  WARN,
} from "../sdk";

let model = "tiny";
let role = "writer";
let next = "";
let rounds: i32 = 3;
let round: i32 = 0;
let tokens: i32 = 0;
let heard = "";
let cancelAfter: i32 = 0;
const options = new GenerateOptions();

onInit((data: Uint8Array): void => {
  model = param(data, "model", model);
  role = param(data, "role", role);
  next = param(data, "next", "");
  rounds = <i32>intParam(data, "rounds", rounds);
  options.maxNewTokens = <u32>intParam(data, "maxTokens", 24);
  options.temperature = <f32>(<f64>intParam(data, "temperaturePercent", 0) / 100.0);
  options.topK = <u32>intParam(data, "topK", 0);
  options.seed = <u64>intParam(data, "seed", 0);
  options.stop = ["\n\n"];
  cancelAfter = <i32>intParam(data, "cancelAfter", 0);
  if (role == "moderator") take(param(data, "topic", "Why do agents need supervisors?"));
});

/** The moderator closes after `rounds` rounds; everyone else always answers. */
function take(text: string): bool {
  if (role == "moderator") {
    round++;
    if (round > rounds) {
      log("moderator: that is " + rounds.toString() + " rounds; thank you both.");
      return true;
    }
  }
  heard = text;
  tokens = 0;
  const messages: ChatMessage[] = [new ChatMessage("system", "You are the " + role + "."), new ChatMessage("user", text)];
  generateChat(model, messages, options);
  return false;
}

onMessage((message: Message): bool => {
  if (message.kind == "turn") return take(message.text());
  if (message.kind == GENERATE_TOKEN_KIND) {
    tokens++;
    if (tokens == cancelAfter) cancelGeneration(model, readToken(message).requestId);
  } else if (message.kind == GENERATE_DONE_KIND) {
    const answer = readGeneration(message);
    log(role + " (" + answer.generatedTokens.toString() + " tokens, " + answer.stopReason + "): " + answer.text);
    if (next.length > 0) sendText(next, "turn", answer.text.length > 0 ? answer.text : heard);
  } else if (message.kind == INFER_ERROR_KIND) {
    log(role + ": the model failed (" + readError(message).message + "); passing the text on", WARN);
    if (next.length > 0) sendText(next, "turn", heard);
  }
  return false;
});
