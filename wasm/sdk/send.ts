// What every part of the SDK builds on: sending a message block to the host, and this agent's name
// and the id of its next message. A leaf: index.ts and the request modules (inference.ts,
// generate.ts, tools.ts) import it, and it imports only the ABI and the message reader, so the SDK
// has no import cycle (index.ts re-exports the request modules, which once imported index.ts).
import { abiNextSeq, abiSelf, abiSend, abiSendDelayed } from "./abi";
import { readText } from "./message";

/** Sends bytes to an agent. The supervisor checks the address against the agent's capabilities. */
export function send(to: string, kind: string, payload: Uint8Array, correlationId: string = ""): void {
  sendDelayed(0, to, kind, payload, correlationId);
}

/** `send`, delivered `delay` ticks later than the next tick. */
export function sendDelayed(delay: i32, to: string, kind: string, payload: Uint8Array, correlationId: string = ""): void {
  // Strings are encoded straight into one reused block: no allocation per send.
  const bound = 16 + 3 * (to.length + kind.length + correlationId.length) + payload.byteLength;
  const block = scratch(bound);
  let at = putString(block, to);
  at = putString(at, kind);
  at = putString(at, correlationId);
  store<u32>(at, payload.byteLength);
  memory.copy(at + 4, payload.dataStart, payload.byteLength);
  const size = at + 4 + payload.byteLength - block;
  const status = delay == 0 ? abiSend(block, <i32>size) : abiSendDelayed(delay, block, <i32>size);
  if (status != 0) abort("send: the host rejected a message block");
}

let selfName: string | null = null;

/** This agent's name (its address). */
export function self(): string {
  let name = selfName;
  if (name === null) {
    name = readText((ptr: usize, capacity: i32): i32 => abiSelf(ptr, capacity));
    selfName = name;
  }
  return name;
}

/** The id the next message this agent sends will have ("<name>#<seq>"): what answers correlate to. */
export function nextId(): string {
  return self() + "#" + abiNextSeq().toString();
}

let scratchPtr: usize = 0;
let scratchSize: usize = 0;

function scratch(size: usize): usize {
  if (size > scratchSize) {
    scratchPtr = scratchPtr == 0 ? heap.alloc(size) : heap.realloc(scratchPtr, size);
    scratchSize = size;
  }
  return scratchPtr;
}

function putString(at: usize, text: string): usize {
  const written = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, at + 4);
  store<u32>(at, <u32>written);
  return at + 4 + written;
}
