// Ledger example, producer: issues `count` transfers, `perTick` at a time, each a debit sent to a
// random source account naming a random destination. Init: id=<p> accounts=a,b,c count=<n> perTick=<k>
import { intParam, Message, onInit, onMessage, param, random, sendText } from "../sdk";

let self = "";
let accounts: string[] = [];
let count: i64 = 0;
let perTick: i64 = 1;
let sent: i64 = 0;

onInit((data: Uint8Array): void => {
  self = param(data, "id", "producer");
  accounts = param(data, "accounts", "").split(",");
  count = intParam(data, "count", 100);
  perTick = intParam(data, "perTick", 1);
  sendText(self, "next", "");
});

function pick(): string {
  return accounts[<i32>Math.floor(random() * <f64>accounts.length)];
}

onMessage((message: Message): bool => {
  if (message.kind != "next") return false;
  for (let i: i64 = 0; i < perTick && sent < count; i++) {
    sent++;
    const amount = 1 + <i64>Math.floor(random() * 100.0);
    const id = self + "#" + sent.toString();
    sendText(pick(), "debit", id + ":" + pick() + ":" + amount.toString());
  }
  if (sent < count) sendText(self, "next", "");
  return false;
});
