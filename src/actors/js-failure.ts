// How a JavaScript agent's failure is worded, from what QuickJS threw (already read out of the
// instance): the reasons docs/agents.md lists.

type Thrown = { name?: string; message?: string; stack?: string };

/**
 * `thrown`: the dumped exception; `what`: where it happened ("handling <id> (<kind>)");
 * `memoryRefused`: the engine asked for memory past its maximum during the call.
 */
export function describeFailure(
  thrown: unknown,
  what: string,
  memoryRefused: boolean,
  memoryPages: number,
): string {
  const outOfMemory = `out of memory ${what}: the JavaScript heap is at its limit (limits.memoryPages ${memoryPages})`;
  // QuickJS throws null, not its out-of-memory error, when it cannot allocate even that error
  // (an array of objects grown until the memory is full does this).
  if ((thrown === null || thrown === undefined) && memoryRefused) return outOfMemory;
  if (typeof thrown !== 'object' || thrown === null) return `uncaught exception ${what}: ${String(thrown)}`;
  const { name = 'Error', message = '', stack = '' } = thrown as Thrown;
  if (name === 'InternalError' && message === 'out of memory') return outOfMemory;
  // Line numbers are the bundle's, not the source's: name the function only.
  const frame = stack.split('\n').find((line) => line.trim().startsWith('at '));
  const fn = frame?.trim().match(/^at ([^ ]+)/)?.[1];
  const where = fn && fn !== '<anonymous>' && fn !== '<eval>' ? ` (in ${fn})` : '';
  return `uncaught ${name}: ${message} ${what}${where}`;
}
