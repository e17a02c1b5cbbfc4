// Counter that keeps state: "add" adds the payload's number (1 when empty), "get" replies with
// the total as text, kind "count". Init data may hold a starting value.
import { log, Message, on, onInit, onMessage, replyText } from "../sdk";

let total: i64 = 0;

onInit((data: Uint8Array): void => {
  if (data.length > 0) total = I64.parseInt(String.UTF8.decode(data.buffer));
});

on("add", (message: Message): void => {
  total += message.payload.length > 0 ? I64.parseInt(message.text()) : 1;
});

on("get", (message: Message): void => {
  replyText(message, "count", total.toString());
});

onMessage((message: Message): bool => {
  log("counter: ignoring a message of kind " + message.kind);
  return false;
});
