// One half of a relay pair: passes a hop counter back and forth with its peer until a limit,
// telling an optional observer about every hop. Init data (key=value):
//   peer=<agent>  start=1 (this side sends hop 1)  limit=<n>  observer=<agent>  counter=<agent>
import { intParam, log, Message, onInit, onMessage, param, sendText } from "../sdk";

let peer = "";
let observer = "";
let counter = "";
let limit: i64 = 10;

onInit((data: Uint8Array): void => {
  peer = param(data, "peer", "");
  observer = param(data, "observer", "");
  counter = param(data, "counter", "");
  limit = intParam(data, "limit", 10);
  if (param(data, "start", "0") == "1") sendText(peer, "hop", "1");
});

onMessage((message: Message): bool => {
  if (message.kind == "hop") {
    const hop = I64.parseInt(message.text());
    if (observer.length > 0) sendText(observer, "hop", hop.toString());
    if (hop < limit) {
      sendText(peer, "hop", (hop + 1).toString());
    } else {
      log("relay: reached hop " + hop.toString() + ", the last one");
      if (counter.length > 0) sendText(counter, "get", "");
    }
  } else if (message.kind == "count") {
    log("relay: " + message.from + " counted " + message.text());
  }
  return false;
});
