// Benchmark caller: calls `echo` of the "everything" tool server over and over, one call at a
// time, the next when the answer comes; logs "done" after the last answer. Init data: calls=<n>
import { intParam, log, Message, onInit, onMessage, ERROR } from "../sdk";
import { callTool, readToolError, TOOL_ERROR_KIND, TOOL_RESULT_KIND } from "../sdk/tools";

const ARGUMENTS = '{"message":"hello"}';
let left: i64 = 0;

onInit((data: Uint8Array): void => {
  left = intParam(data, "calls", 1);
  callTool("everything", "echo", ARGUMENTS);
});

onMessage((message: Message): bool => {
  if (message.kind == TOOL_RESULT_KIND) {
    left--;
    if (left > 0) callTool("everything", "echo", ARGUMENTS);
    else log("done");
  } else if (message.kind == TOOL_ERROR_KIND) {
    log("tool error: " + readToolError(message).message, ERROR);
  }
  return false;
});
