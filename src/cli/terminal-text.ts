// Text for a terminal, from whatever an agent, a journal or a server said (issue 26): control
// characters are written as escapes, so a log line or a crash reason holding `\x1b]2;…\x07`
// cannot set the terminal's title, clear the screen or hide lines. JSON output stays exact
// (JSON.stringify escapes controls itself). Kept: newline, between lines the tool itself writes.

/** C0 controls but newline, DEL, C1 controls, and the bidirectional overrides (text shown reordered). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The character as an escape a reader can see: \x1b, \u202e. */
function escaped(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unsafe character escaped (newlines kept). */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/** One line of someone else's text: newlines escaped too, so it cannot pass for lines of ours. */
export function oneLine(text: string): string {
  return terminalText(text).replace(/\n/g, '\\n');
}
