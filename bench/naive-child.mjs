// Baseline child for bench/run.mjs: one IPC send per message, the way a naive runtime routes.
// role=source sends COUNT payloads one by one; role=sink counts them and reports when all arrived.
const role = process.env.ROLE;
const count = Number(process.env.COUNT);
const payload = new Uint8Array(Number(process.env.SIZE ?? 16));

if (role === 'source') {
  process.on('message', async () => {
    for (let i = 0; i < count; i++) {
      // Respect back-pressure like any real sender would, or the channel buffers without bound.
      if (!process.send(payload)) await new Promise((resolve) => setImmediate(resolve));
    }
  });
} else {
  let received = 0;
  process.on('message', () => {
    received++;
    if (received === count) process.send('done');
  });
}
process.on('disconnect', () => process.exit(0));
