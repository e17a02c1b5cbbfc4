// Answers every message with a roll from its seeded random stream and the logical time:
// "<tick>:<roll 1-6>". Same seed, same rolls; a different seed, different rolls.
import { Message, now, onMessage, random, replyText } from "../sdk";

onMessage((message: Message): bool => {
  const roll = <i32>Math.floor(random() * 6.0) + 1;
  replyText(message, "roll", now().toString() + ":" + roll.toString());
  return false;
});
