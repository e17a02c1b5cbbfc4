// Benchmark worker: for each message, mixes a hash for as many rounds as the payload's number
// says, then answers with the hash. CPU-bound, so it shows what fuel metering costs real work.
import { Message, onMessage, replyText } from "../sdk";

function mix(rounds: i32): u32 {
  let hash: u32 = 2166136261;
  for (let i = 0; i < rounds; i++) hash = (hash ^ <u32>i) * 16777619;
  return hash;
}

onMessage((message: Message): bool => {
  replyText(message, "hash", mix(I32.parseInt(message.text())).toString());
  return false;
});
