import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';

const bytes = readFileSync('dist/engine/quickjs-metered.wasm');
// Patch the memory import's minimum: flags 0x01, min 256 (0x80 0x02), max 32768 (0x80 0x80 0x02).
const needle = Buffer.from([0x02, 0x01, 0x80, 0x02, 0x80, 0x80, 0x02]);
const at = bytes.indexOf(needle);
console.log('found at', at, bytes.indexOf(needle, at + 1));
const patched = Buffer.from(bytes);
patched[at + 2] = 0xe0;
patched[at + 3] = 0x00; // 96, padded to two bytes
const m = new WebAssembly.Module(patched);
console.log(WebAssembly.validate(patched));
const mem = new WebAssembly.Memory({ initial: 96, maximum: 1024 });
console.log('ok module');
