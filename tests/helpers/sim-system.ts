// Random systems for the core simulation: a few agents (some under a nested supervisor), random
// restart types, strategies, limits and scheduling, a model, an LLM and a tool server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActorDecl, type SupervisorDecl, tempDir, writeSystem } from './system.js';

const MODULE = join(import.meta.dirname, '..', 'fixtures', 'malformed.wasm');

export function randomSystem(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const restart = () => pick(['permanent', 'permanent', 'transient', 'temporary'] as const);
  const strategy = () => pick(['one_for_one', 'one_for_all', 'rest_for_one'] as const);
  const count = 2 + Math.floor(random() * 6);
  const actors: ActorDecl[] = Array.from({ length: count }, (_, i) => ({
    name: `a${i}`,
    module: MODULE,
    restart: restart(),
    models: ['m', 'g', 'r'],
    tools: ['t'],
  }));
  // Some agents under a nested supervisor, the rest under the root.
  const nested = Math.floor(random() * count);
  const agents: Array<ActorDecl | SupervisorDecl> =
    nested > 1
      ? [
          ...actors.slice(nested),
          { supervisor: 'inner', strategy: strategy(), maxRestarts: 3, agents: actors.slice(0, nested) },
        ]
      : actors;
  const dir = tempDir();
  writeFileSync(join(dir, 'm.onnx'), '');
  mkdirSync(join(dir, 'g'));
  return writeSystem(
    {
      seed: Math.floor(random() * 1000),
      maxBatch: 1 + Math.floor(random() * 6),
      retryLimit: Math.floor(random() * 3),
      maxRestarts: 2 + Math.floor(random() * 10),
      periodMs: 1000,
      strategy: strategy(),
      ...(random() < 0.5 ? { backoff: { initialTicks: 1, maxTicks: 8, jitter: 0.5 } } : {}),
      limits: {
        mailbox: 2 + Math.floor(random() * 10),
        overflow: pick(['dead-letter', 'reject']),
        watchdogMs: 2000,
      },
      models: [
        { name: 'm', path: join(dir, 'm.onnx') },
        { name: 'g', type: 'llm', path: join(dir, 'g') },
        // A model behind an OpenAI-compatible server: the simulated GPU host streams it like `g`.
        { name: 'r', type: 'openai', url: 'http://127.0.0.1:9/v1', model: 'sim' },
      ],
      tools: [{ name: 't', mcp: { command: 'sim-tool-server' } }],
      inference: pick(['live', 'strict'] as const),
      agents,
    },
    dir,
  );
}
