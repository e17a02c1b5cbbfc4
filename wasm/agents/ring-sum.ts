// One member of a ring that adds up every member's value: each member starts a token that goes
// once around the ring, every member adding its value on the way; when its own token comes back,
// the member holds the ring's total and checks it. Every member works at once, every tick.
// Init data (key=value): next=<agent> (the next member), value=<n>, size=<members in the ring>.
import { intParam, log, Message, onInit, onMessage, param, sendText } from "../sdk";

let next = "";
let value: i64 = 0;
let size: i64 = 0;
let self = "";

onInit((data: Uint8Array): void => {
  next = param(data, "next", "");
  value = intParam(data, "value", 0);
  size = intParam(data, "size", 0);
  self = param(data, "self", "");
  // A token is "origin;hops;sum": it starts with this member's value, one hop done.
  sendText(next, "token", self + ";1;" + value.toString());
});

onMessage((message: Message): bool => {
  if (message.kind != "token") return false;
  const parts = message.text().split(";");
  const origin = parts[0];
  const hops = I64.parseInt(parts[1]);
  const sum = I64.parseInt(parts[2]);
  if (origin == self) {
    // Back home after a lap: the sum of 1..size is size * (size + 1) / 2.
    const expected = (size * (size + 1)) / 2;
    if (hops != size || sum != expected) {
      log("ring-sum: WRONG total " + sum.toString() + " after " + hops.toString() + " hops");
    } else if (self == "m-0000") {
      log("ring-sum: " + self + " got the total " + sum.toString() + " from " + size.toString() + " members");
    }
    return true;
  }
  sendText(next, "token", origin + ";" + (hops + 1).toString() + ";" + (sum + value).toString());
  return false;
});
