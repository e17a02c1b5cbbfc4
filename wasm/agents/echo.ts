// Stateless echo: answers every message with the same payload, kind "echo".
import { Message, onMessage, reply } from "../sdk";

onMessage((message: Message): bool => {
  reply(message, "echo", message.payload);
  return false;
});
