// Benchmark sink: counts what it receives and answers "get" with the count.
import { Message, onMessage, replyText } from "../sdk";

let received: i64 = 0;

onMessage((message: Message): bool => {
  if (message.kind == "get") replyText(message, "count", received.toString());
  else received++;
  return false;
});
