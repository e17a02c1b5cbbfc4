// Calls tools of MCP servers from AssemblyScript: reads a file through a filesystem server, logs
// its text, and logs each error with its code. Init: server=fs; file=notes.txt; denied=<a tool
// it is not granted, called too, to show the refusal>.
import { log, Message, onInit, onMessage, param, WARN } from "../sdk";
import { jsonString } from "../sdk/json";
import { callTool, readToolError, readToolResult, TOOL_ERROR_KIND, TOOL_RESULT_KIND } from "../sdk/tools";

onInit((data: Uint8Array): void => {
  const server = param(data, "server", "fs");
  callTool(server, "read_text_file", '{"path":' + jsonString(param(data, "file", "notes.txt")) + "}");
  const denied = param(data, "denied", "");
  if (denied.length > 0) callTool(server, denied, "{}");
});

onMessage((message: Message): bool => {
  if (message.kind == TOOL_RESULT_KIND) {
    const result = readToolResult(message);
    log("result for " + result.requestId + ": " + result.text);
  } else if (message.kind == TOOL_ERROR_KIND) {
    const error = readToolError(message);
    log(error.code + ": " + error.message, WARN);
  }
  return false;
});
