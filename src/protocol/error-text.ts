// What a caught value says, for a message a person reads. JavaScript can throw anything (binaryen
// throws numbers and strings, a rejected promise may carry undefined); none of it may become
// "undefined" in a crash reason.
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error || 'an empty error message';
  if (error === undefined || error === null)
    return `an error without a message (${String(error)} was thrown)`;
  try {
    return `a non-Error value was thrown: ${JSON.stringify(error) ?? String(error)}`;
  } catch {
    return `a non-Error value was thrown: ${String(error)}`;
  }
}
