// UTF-8 inside the sandbox, without a round trip to the host (QuickJS has no TextEncoder): ASCII,
// the common case for addresses and kinds, takes the fast path.

export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** Writes `text` at `at`; returns where it ends. `bytes` must have utf8Length(text) room. */
export function writeUtf8(bytes: Uint8Array, at: number, text: string): number {
  let to = at;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      bytes[to++] = code;
      continue;
    }
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code < 0x800) {
      bytes[to++] = 0xc0 | (code >> 6);
    } else if (code < 0x10000) {
      bytes[to++] = 0xe0 | (code >> 12);
      bytes[to++] = 0x80 | ((code >> 6) & 0x3f);
    } else {
      bytes[to++] = 0xf0 | (code >> 18);
      bytes[to++] = 0x80 | ((code >> 12) & 0x3f);
      bytes[to++] = 0x80 | ((code >> 6) & 0x3f);
    }
    bytes[to++] = 0x80 | (code & 0x3f);
  }
  return to;
}

export function encodeUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(utf8Length(text));
  writeUtf8(bytes, 0, text);
  return bytes;
}

/** Decodes bytes as UTF-8 (a malformed sequence becomes U+FFFD). */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    if (end - start <= 64) {
      let text = '';
      for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i] as number);
      return text;
    }
    let text = '';
    for (let i = start; i < end; i += 4096) {
      const chunk = bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[];
      text += String.fromCharCode.apply(null, chunk);
    }
    return text;
  }
  const units: number[] = [];
  let text = '';
  for (let i = start; i < end; ) {
    const byte = bytes[i++] as number;
    let code = 0xfffd;
    const next = () =>
      i < end && ((bytes[i] as number) & 0xc0) === 0x80 ? (bytes[i++] as number) & 0x3f : -1;
    if (byte < 0x80) code = byte;
    else if (byte >= 0xc2 && byte < 0xe0) {
      const a = next();
      if (a >= 0) code = ((byte & 0x1f) << 6) | a;
    } else if (byte >= 0xe0 && byte < 0xf0) {
      const a = next();
      const b = a >= 0 ? next() : -1;
      if (b >= 0) code = ((byte & 0x0f) << 12) | (a << 6) | b;
    } else if (byte >= 0xf0 && byte < 0xf5) {
      const a = next();
      const b = a >= 0 ? next() : -1;
      const c = b >= 0 ? next() : -1;
      if (c >= 0) code = ((byte & 0x07) << 18) | (a << 12) | (b << 6) | c;
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    } else units.push(code);
    if (units.length >= 4096) text += String.fromCharCode.apply(null, units.splice(0));
  }
  return text + String.fromCharCode.apply(null, units);
}
