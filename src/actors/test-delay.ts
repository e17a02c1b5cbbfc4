// Test-only knob: TROUPE_TEST_HOST_DELAY_MS=N delays each batch by a random 0..N ms, so tests can
// show that process timing does not change the delivery order. Unset, it costs nothing.

const maxDelay = Number(process.env.TROUPE_TEST_HOST_DELAY_MS ?? 0);

export function testDelay(): Promise<void> | undefined {
  if (!(maxDelay > 0)) return undefined;
  return new Promise((resolve) => setTimeout(resolve, Math.random() * maxDelay));
}
