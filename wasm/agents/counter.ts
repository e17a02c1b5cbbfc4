// Counter that keeps state: "add" adds the payload's number (1 when empty), "get" replies with
// the total as text, kind "count". Init data may hold a starting value.
import { log, Message, onInit, onMessage, replyText } from "../sdk";

let total: i64 = 0;

onInit((data: Uint8Array): void => {
  if (data.length > 0) total = I64.parseInt(String.UTF8.decode(data.buffer));
});

onMessage((message: Message): bool => {
  if (message.kind == "add") {
    total += message.payload.length > 0 ? I64.parseInt(message.text()) : 1;
  } else if (message.kind == "get") {
    replyText(message, "count", total.toString());
  } else {
    log("counter: ignoring a message of kind " + message.kind);
  }
  return false;
});
