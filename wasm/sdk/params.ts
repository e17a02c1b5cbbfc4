// Init data as "key=value" pairs separated by newlines or ";", the simplest format for examples.

export function param(data: Uint8Array, key: string, fallback: string): string {
  const text = String.UTF8.decode(data.buffer);
  const entries = text.replaceAll(";", "\n").split("\n");
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i].trim();
    const eq = entry.indexOf("=");
    if (eq > 0 && entry.substring(0, eq).trim() == key) return entry.substring(eq + 1).trim();
  }
  return fallback;
}

export function intParam(data: Uint8Array, key: string, fallback: i64): i64 {
  const value = param(data, key, "");
  return value.length > 0 ? I64.parseInt(value) : fallback;
}
