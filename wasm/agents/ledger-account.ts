// Ledger example, account: applies debits (and forwards the credit) and credits, and reports
// "balance:debits:credits" when asked. Init: the opening balance.
import { Message, onInit, onMessage, replyText, sendText } from "../sdk";

let balance: i64 = 0;
let debits: i64 = 0;
let credits: i64 = 0;

onInit((data: Uint8Array): void => {
  if (data.length > 0) balance = I64.parseInt(String.UTF8.decode(data.buffer));
});

onMessage((message: Message): bool => {
  if (message.kind == "debit") {
    // "id:to:amount"
    const parts = message.text().split(":");
    const amount = I64.parseInt(parts[2]);
    balance -= amount;
    debits++;
    sendText(parts[1], "credit", parts[0] + ":" + amount.toString());
  } else if (message.kind == "credit") {
    balance += I64.parseInt(message.text().split(":")[1]);
    credits++;
  } else if (message.kind == "report") {
    replyText(message, "balance", balance.toString() + ":" + debits.toString() + ":" + credits.toString());
  }
  return false;
});
