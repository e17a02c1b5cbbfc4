// Benchmark source: every tick sends `count` envelopes of `size` bytes to `to`, and one "go" to
// itself (`self`, default "blaster") to keep going. Init data: to=<agent> count=<n> size=<bytes>
// self=<its own name>
import { intParam, Message, onInit, onMessage, param, send, sendText } from "../sdk";

let target = "";
let self = "blaster";
let count: i32 = 1000;
let payload = new Uint8Array(16);

onInit((data: Uint8Array): void => {
  target = param(data, "to", "sink");
  count = <i32>intParam(data, "count", 1000);
  payload = new Uint8Array(<i32>intParam(data, "size", 16));
  self = param(data, "self", self);
  sendText(self, "go", "");
});

onMessage((message: Message): bool => {
  for (let i = 0; i < count; i++) send(target, "bench", payload);
  sendText(self, "go", "");
  return false;
});
