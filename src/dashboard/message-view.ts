// How the window shows a payload it never interprets: as text when it is printable UTF-8 (marked
// JSON when it parses as JSON), a generated token as the text it adds, and anything else as hex.
import { decodeGenerateToken, type Envelope, envelopeId, GENERATE_TOKEN_KIND } from '../protocol/index.js';
import type { MessageView } from './wire.js';

/** Longest payload shown in full in a detail view; longer ones are cut (their size is given). */
const SHOWN_BYTES = 2048;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function messageView(envelope: Envelope): MessageView {
  const payload = envelope.payload ?? new Uint8Array(0);
  const view: MessageView = {
    id: envelopeId(envelope),
    from: envelope.from ?? '',
    kind: envelope.kind ?? '',
    bytes: payload.length,
  };
  const text = printable(envelope.kind ?? '', payload, SHOWN_BYTES);
  if (text !== undefined) {
    view.text = text;
    if (isJson(text)) view.json = true;
  } else {
    view.hex = Buffer.from(payload.subarray(0, SHOWN_BYTES)).toString('hex');
  }
  return view;
}

/**
 * The payload as text when it is printable UTF-8 of at most `most` bytes; a generated token's
 * text. Undefined otherwise.
 */
export function printable(
  kind: string,
  payload: Uint8Array | null | undefined,
  most: number,
): string | undefined {
  if (!payload || payload.length === 0) return undefined;
  if (kind === GENERATE_TOKEN_KIND) {
    try {
      return decodeGenerateToken(payload).text;
    } catch {
      return undefined;
    }
  }
  if (payload.length > most) return undefined;
  try {
    const text = decoder.decode(payload);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    return /^[^\u0000-\u0008\u000e-\u001f]*$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

function isJson(text: string): boolean {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
