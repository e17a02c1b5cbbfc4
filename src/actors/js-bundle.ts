// A JavaScript agent's bundle as the module cache writes it: one line naming the agent's source
// (what its stack traces show), then the bundled code, which defines the agent when run.

export const BUNDLE_HEADER = '// troupe js agent v1: ';

/** Module files the hosts run as JavaScript agents (the cache writes bundles with this suffix). */
export function isJsBundle(path: string): boolean {
  return path.endsWith('.js');
}

export function writeJsBundle(code: string, source: string): string {
  return `${BUNDLE_HEADER}${source.replace(/[\r\n]/g, ' ')}\n${code}`;
}

/** The code and the name of its source; a reason when the bytes are not UTF-8 text. */
export function readJsBundle(bytes: Uint8Array, path: string): { code: string; file: string } | string {
  let code: string;
  try {
    code = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return `module ${path} is not UTF-8 text`;
  }
  if (!code.startsWith(BUNDLE_HEADER)) return { code, file: path.split('/').pop() ?? path };
  const end = code.indexOf('\n');
  return { code, file: code.slice(BUNDLE_HEADER.length, end) };
}
