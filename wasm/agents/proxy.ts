// Sends what it is told to, as itself: a message of kind "forward" carries "<to>\n<kind>\n" and
// then the payload's bytes. Used by tests to send exact (also malformed) requests to models; the
// answers come back to the proxy and are visible in its deliveries.
import { log, Message, onMessage, send } from "../sdk";
export { troupe_alloc, troupe_handle, troupe_init } from "../sdk";

onMessage((message: Message): bool => {
  if (message.kind != "forward") return false;
  const bytes = message.payload;
  const first = bytes.indexOf(10);
  const second = first < 0 ? -1 : bytes.indexOf(10, first + 1);
  if (second < 0) {
    log("proxy: a forward payload starts with <to>\\n<kind>\\n");
    return false;
  }
  const to = String.UTF8.decode(bytes.slice(0, first).buffer);
  const kind = String.UTF8.decode(bytes.slice(first + 1, second).buffer);
  send(to, kind, bytes.slice(second + 1));
  return false;
});
