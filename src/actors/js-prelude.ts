// What a JavaScript agent's QuickJS instance gets before its code runs (the prelude), and the
// control block the prelude makes: where it is found in the instance's memory, and checked.
import { CONTROL_INDEX, CONTROL_MARK, CONTROL_MIX, CONTROL_WORDS } from '../sdk/host-bridge.js';

// Runs before the agent's code: no way to compile code at run time, and Math.random drawn from
// the agent's seeded stream. The host bridge goes in as a hidden, frozen global.
export const PRELUDE = `(function (host) {
  'use strict';
  const refuse = (what) => function () {
    throw new EvalError(what + ' is not available in a Troupe agent: code cannot be compiled at run time');
  };
  const fixed = (target, key, value) =>
    Object.defineProperty(target, key, { value, writable: false, configurable: false, enumerable: false });
  const compilers = [
    function () {},
    function* () {},
    async function () {},
    async function* () {},
  ].map((f) => Object.getPrototypeOf(f));
  for (const proto of compilers) fixed(proto, 'constructor', refuse('the Function constructor'));
  const noFunction = refuse('the Function constructor');
  noFunction.prototype = Function.prototype;
  fixed(globalThis, 'Function', noFunction);
  fixed(globalThis, 'eval', refuse('eval'));
  fixed(Math, 'random', function random() { return host.random(); });
  // The control block: its marks are computed here, so its 16 bytes are in a row nowhere else.
  const control = new Int32Array(${CONTROL_WORDS});
  const mark = ${CONTROL_MARK} | 0;
  control[0] = mark;
  control[1] = mark ^ ${CONTROL_MIX};
  control[${CONTROL_INDEX}] = -1;
  control[3] = (mark + ${CONTROL_MIX}) | 0;
  host.control = control;
  fixed(globalThis, '__troupe_host', Object.freeze(host));
})`;

const MARKS = [
  CONTROL_MARK | 0,
  (CONTROL_MARK | 0) ^ CONTROL_MIX,
  ((CONTROL_MARK | 0) + CONTROL_MIX) | 0,
] as const;

export function blockAt(memory: WebAssembly.Memory, at: number): boolean {
  if (at + 16 > memory.buffer.byteLength) return false;
  const view = new DataView(memory.buffer);
  return (
    view.getInt32(at, true) === MARKS[0] &&
    view.getInt32(at + 4, true) === MARKS[1] &&
    view.getInt32(at + 12, true) === MARKS[2]
  );
}

/** The control block's byte offset: the one place in `memory` holding its marks in a row. */
export function findControlBlock(memory: WebAssembly.Memory): number {
  const words = new Int32Array(memory.buffer);
  const found: number[] = [];
  for (let at = 0; at + 3 < words.length; at++) {
    if (words[at] === MARKS[0] && words[at + 1] === MARKS[1] && words[at + 3] === MARKS[2])
      found.push(at * 4);
  }
  if (found.length !== 1) {
    throw new Error(
      `the control block was found ${found.length} times in the sandbox's memory (once expected)`,
    );
  }
  return found[0] as number;
}
