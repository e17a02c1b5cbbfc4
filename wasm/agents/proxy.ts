// Sends what it is told to, as itself: a message of kind "forward" carries "<to>\n<kind>\n" and
// then the payload's bytes; kind "forward-reply" carries "<to>\n<kind>\n<correlation id>\n" first. Used by tests to send exact (also malformed) requests to models; the
// answers come back to the proxy and are visible in its deliveries.
import { log, Message, onMessage, send } from "../sdk";

onMessage((message: Message): bool => {
  if (message.kind != "forward" && message.kind != "forward-reply") return false;
  const bytes = message.payload;
  const lines = message.kind == "forward" ? 2 : 3;
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < lines; i++) {
    const end = bytes.indexOf(10, at);
    if (end < 0) {
      log("proxy: a " + message.kind + " payload starts with " + lines.toString() + " header lines");
      return false;
    }
    fields.push(String.UTF8.decode(bytes.slice(at, end).buffer));
    at = end + 1;
  }
  send(fields[0], fields[1], bytes.slice(at), lines == 3 ? fields[2] : "");
  return false;
});
