// Ledger example, auditor: on "audit", asks every account for its report and logs the sums:
// "audit total=<sum of balances> debits=<n> credits=<n>". Init: accounts=a,b,c
import { log, Message, onInit, onMessage, param, sendText } from "../sdk";

let accounts: string[] = [];
let answers = 0;
let total: i64 = 0;
let debits: i64 = 0;
let credits: i64 = 0;

onInit((data: Uint8Array): void => {
  accounts = param(data, "accounts", "").split(",");
});

onMessage((message: Message): bool => {
  if (message.kind == "audit") {
    answers = 0;
    total = 0;
    debits = 0;
    credits = 0;
    for (let i = 0; i < accounts.length; i++) sendText(accounts[i], "report", "");
  } else if (message.kind == "balance") {
    const parts = message.text().split(":");
    total += I64.parseInt(parts[0]);
    debits += I64.parseInt(parts[1]);
    credits += I64.parseInt(parts[2]);
    answers++;
    if (answers == accounts.length) {
      log("audit total=" + total.toString() + " debits=" + debits.toString() + " credits=" + credits.toString());
    }
  }
  return false;
});
