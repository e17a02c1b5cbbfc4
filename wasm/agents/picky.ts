// Adds every hop number it hears to a counter, but traps on one number (init "trapOn=<n>"):
// the example of a deterministic crash. Init data: counter=<agent> trapOn=<n>
import { intParam, Message, onInit, onMessage, param, sendText } from "../sdk";

let counter = "";
let trapOn: i64 = -1;

onInit((data: Uint8Array): void => {
  counter = param(data, "counter", "");
  trapOn = intParam(data, "trapOn", -1);
});

onMessage((message: Message): bool => {
  const value = I64.parseInt(message.text());
  if (value == trapOn) abort("picky: refusing to handle " + value.toString());
  if (counter.length > 0) sendText(counter, "add", value.toString());
  return false;
});
