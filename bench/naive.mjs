// The naive baseline: two child processes, one IPC send per message, routed through the parent
// (bench/naive-child.mjs), as a runtime without batching would. Resolves to messages per second.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const child = join(dirname(fileURLToPath(import.meta.url)), 'naive-child.mjs');

export function naiveBaseline(count, size) {
  return new Promise((resolve) => {
    const env = { ...process.env, COUNT: String(count), SIZE: String(size) };
    const options = { serialization: 'advanced' };
    const source = fork(child, [], { ...options, env: { ...env, ROLE: 'source' } });
    const sink = fork(child, [], { ...options, env: { ...env, ROLE: 'sink' } });
    let started;
    source.on('message', (message) => sink.send(message));
    sink.on('message', () => {
      const seconds = (performance.now() - started) / 1000;
      source.kill();
      sink.kill();
      resolve(count / seconds);
    });
    // Both children are up once they answer the first message; start the clock then.
    setTimeout(() => {
      started = performance.now();
      source.send('go');
    }, 300);
  });
}
