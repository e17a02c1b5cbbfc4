// QuickJS's memory, laid out smaller and shared: used by the engine build step and by the
// benchmark's unmetered engine, so both run with the memory the host gives them. V8 counted every
// instance's unshared memory as external memory and collected garbage as it grew; with a thousand
// agents on a thread that was most of its time starting them (engine-file.ts), so an engine
// declares little memory and grows on demand, its C stack is made smaller so that its heap starts
// low, and its memory is shared, which V8 does not count (the host paces collections itself).
import { ENGINE_INITIAL_PAGES, ENGINE_STACK_BYTES } from '../dist/actors/engine-file.js';

// The layout of the QuickJS build Troupe was written for (@jitl/quickjs-wasmfile-release-sync
// 0.32.0): static data up to STACK_END, then a 5 MiB stack growing down from STACK_TOP, where the
// heap (sbrk) starts. Three places hold it: the stack pointer global's initial value, the main
// thread's record (its stack top and size, stored by the start-up code at THREAD_STACK_TOP), and
// sbrk's first break, a word of static data at SBRK_START.
const STACK_TOP = 5333088;
const STACK_SIZE = 5242880;
const STACK_END = STACK_TOP - STACK_SIZE;
const THREAD_STACK_TOP = 88892;
const SBRK_START = 86864;

const I32_CONST = 0x41;
const END = 0x0b;
const I32_STORE = [0x36, 0x02, 0x00];

/** Signed LEB128, shortest form. */
function sleb(value) {
  const out = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** LEB128 of a non-negative value in exactly `length` bytes (WebAssembly allows the padding). */
function padded(value, length) {
  return Array.from({ length }, (_, i) => ((value >> (7 * i)) & 0x7f) | (i < length - 1 ? 0x80 : 0));
}

/** `i32.const value` as the build wrote it, and the same instruction for `to`, as long. */
function constant(value, to) {
  const old = sleb(value);
  return [
    [I32_CONST, ...old],
    [I32_CONST, ...(to === undefined ? old : padded(to, old.length))],
  ];
}

/** Writes `to` over the one place `from` is; throws unless there is exactly one. */
function replaceOnce(bytes, from, to, what) {
  const needle = Buffer.from(from);
  const at = bytes.indexOf(needle);
  if (at < 0 || bytes.indexOf(needle, at + 1) >= 0 || from.length !== to.length) {
    throw new Error(`this QuickJS build's ${what} is not the one Troupe was written for`);
  }
  bytes.set(to, at);
}

/**
 * The engine with its stack lowered to ENGINE_STACK_BYTES (its heap then starts just above it) and
 * its memory import's minimum lowered from the build's 256 pages to ENGINE_INITIAL_PAGES.
 */
export function smallerMemory(input) {
  const bytes = Buffer.from(input);
  const top = STACK_END + ENGINE_STACK_BYTES;
  if (top >= ENGINE_INITIAL_PAGES * 65536) throw new Error('the engine would not fit its first pages');
  const [oldTop, newTop] = constant(STACK_TOP, top);
  replaceOnce(bytes, [...oldTop, END], [...newTop, END], 'stack pointer');
  const [oldSize, newSize] = constant(STACK_SIZE, ENGINE_STACK_BYTES);
  const [record] = constant(THREAD_STACK_TOP);
  replaceOnce(
    bytes,
    [...oldSize, ...I32_STORE, ...record, ...oldTop, ...I32_STORE],
    [...newSize, ...I32_STORE, ...record, ...newTop, ...I32_STORE],
    'main thread record',
  );
  // sbrk's first break: a data segment of three bytes (the fourth is zero) at SBRK_START.
  const [segment] = constant(SBRK_START);
  const word = (value) => [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff];
  replaceOnce(
    bytes,
    [...segment, END, 3, ...word(STACK_TOP)],
    [...segment, END, 3, ...word(top)],
    'heap start',
  );
  // The memory import: `(import "a" "a" (memory 256 32768))`, its limits the bytes 0x02 (memory),
  // 0x01 (has a maximum), LEB128 256, LEB128 32768; the minimum is rewritten as two bytes, and the
  // memory is made shared (0x03: a maximum, shared), which V8 does not count as external memory
  // (engine-file.ts). QuickJS itself runs on one thread, as before.
  if (ENGINE_INITIAL_PAGES >= 128) throw new Error('ENGINE_INITIAL_PAGES must fit one LEB128 byte');
  const limits = [0x02, 0x01, 0x80, 0x02, 0x80, 0x80, 0x02];
  replaceOnce(
    bytes,
    limits,
    [0x02, 0x03, 0x80 | ENGINE_INITIAL_PAGES, 0x00, 0x80, 0x80, 0x02],
    'memory import',
  );
  if (!WebAssembly.validate(bytes)) throw new Error('the engine does not validate with its smaller memory');
  return new Uint8Array(bytes);
}
