// JSON for AssemblyScript agents: `parseJson` reads a document into JsonValues (null when the text
// is not JSON), `jsonString` quotes a string for a document being written. Enough for the
// runtime's JSON payloads (tool calls and their answers) and an agent's own.

export const JSON_NULL: u8 = 0;
export const JSON_BOOL: u8 = 1;
export const JSON_NUMBER: u8 = 2;
export const JSON_STRING: u8 = 3;
export const JSON_ARRAY: u8 = 4;
export const JSON_OBJECT: u8 = 5;

export class JsonValue {
  kind: u8 = JSON_NULL;
  bool: bool = false;
  number: f64 = 0;
  string: string = "";
  /** An array's items. */
  items: JsonValue[] = [];
  /** An object's keys and values, in document order. */
  keys: string[] = [];
  values: JsonValue[] = [];

  /** An object's member, or null (also when this is not an object). */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.values[i];
    return null;
  }

  /** An object member's string, or `otherwise` when it is absent or not a string. */
  text(key: string, otherwise: string = ""): string {
    const value = this.get(key);
    return value != null && value.kind == JSON_STRING ? value.string : otherwise;
  }
}

/** The document, or null when `text` is not exactly one JSON value. */
export function parseJson(text: string): JsonValue | null {
  const reader = new JsonReader(text);
  const value = reader.value();
  if (value == null) return null;
  reader.space();
  return reader.at == text.length ? value : null;
}

/** `text` as a JSON string: quoted, with quotes, backslashes and control characters escaped. */
export function jsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code == 0x22) out += '\\"';
    else if (code == 0x5c) out += "\\\\";
    else if (code == 0x0a) out += "\\n";
    else if (code == 0x0d) out += "\\r";
    else if (code == 0x09) out += "\\t";
    else if (code < 0x20) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += String.fromCharCode(code);
  }
  return out + '"';
}

class JsonReader {
  at: i32 = 0;

  constructor(public text: string) {}

  space(): void {
    while (this.at < this.text.length) {
      const code = this.text.charCodeAt(this.at);
      if (code != 0x20 && code != 0x0a && code != 0x0d && code != 0x09) return;
      this.at++;
    }
  }

  value(): JsonValue | null {
    this.space();
    if (this.at >= this.text.length) return null;
    const code = this.text.charCodeAt(this.at);
    if (code == 0x7b) return this.object();
    if (code == 0x5b) return this.array();
    if (code == 0x22) {
      const text = this.string();
      if (text == null) return null;
      const value = new JsonValue();
      value.kind = JSON_STRING;
      value.string = text;
      return value;
    }
    if (this.word("true") || this.word("false")) {
      const value = new JsonValue();
      value.kind = JSON_BOOL;
      value.bool = this.text.charCodeAt(this.at - 1) == 0x65 && this.text.charCodeAt(this.at - 4) == 0x74;
      return value;
    }
    if (this.word("null")) return new JsonValue();
    return this.number();
  }

  word(word: string): bool {
    if (this.text.substr(this.at, word.length) != word) return false;
    this.at += word.length;
    return true;
  }

  number(): JsonValue | null {
    const start = this.at;
    while (this.at < this.text.length) {
      const code = this.text.charCodeAt(this.at);
      const part = (code >= 0x30 && code <= 0x39) || code == 0x2d || code == 0x2b || code == 0x2e || code == 0x65 || code == 0x45;
      if (!part) break;
      this.at++;
    }
    if (this.at == start) return null;
    const parsed = parseFloat(this.text.substring(start, this.at));
    if (isNaN(parsed)) return null;
    const value = new JsonValue();
    value.kind = JSON_NUMBER;
    value.number = parsed;
    return value;
  }

  string(): string | null {
    this.at++; // the opening quote
    let out = "";
    while (this.at < this.text.length) {
      const code = this.text.charCodeAt(this.at++);
      if (code == 0x22) return out;
      if (code != 0x5c) {
        out += String.fromCharCode(code);
        continue;
      }
      if (this.at >= this.text.length) return null;
      const escape = this.text.charCodeAt(this.at++);
      if (escape == 0x6e) out += "\n";
      else if (escape == 0x74) out += "\t";
      else if (escape == 0x72) out += "\r";
      else if (escape == 0x62) out += "\b";
      else if (escape == 0x66) out += "\f";
      else if (escape == 0x75) {
        if (this.at + 4 > this.text.length) return null;
        const hex = <i32>parseInt(this.text.substr(this.at, 4), 16);
        if (isNaN(<f64>hex)) return null;
        out += String.fromCharCode(hex);
        this.at += 4;
      } else out += String.fromCharCode(escape); // \" \\ \/
    }
    return null;
  }

  array(): JsonValue | null {
    this.at++;
    const value = new JsonValue();
    value.kind = JSON_ARRAY;
    this.space();
    if (this.text.charCodeAt(this.at) == 0x5d) {
      this.at++;
      return value;
    }
    while (true) {
      const item = this.value();
      if (item == null) return null;
      value.items.push(item);
      this.space();
      const code = this.text.charCodeAt(this.at++);
      if (code == 0x5d) return value;
      if (code != 0x2c) return null;
    }
  }

  object(): JsonValue | null {
    this.at++;
    const value = new JsonValue();
    value.kind = JSON_OBJECT;
    this.space();
    if (this.text.charCodeAt(this.at) == 0x7d) {
      this.at++;
      return value;
    }
    while (true) {
      this.space();
      if (this.text.charCodeAt(this.at) != 0x22) return null;
      const key = this.string();
      if (key == null) return null;
      this.space();
      if (this.text.charCodeAt(this.at++) != 0x3a) return null;
      const member = this.value();
      if (member == null) return null;
      value.keys.push(key);
      value.values.push(member);
      this.space();
      const code = this.text.charCodeAt(this.at++);
      if (code == 0x7d) return value;
      if (code != 0x2c) return null;
    }
  }
}
