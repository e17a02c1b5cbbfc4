// `troupe run --watch`: watches each agent's module (for a script, its folder and everything
// under it, where its imports live) and reloads the agent when a file there changes.
import { type FSWatcher, watch } from 'node:fs';
import { dirname, extname } from 'node:path';
import type { SystemSpec } from '../supervisor/index.js';

const SOURCES = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json', '.wasm']);
/** Editors write a file in several steps; one reload follows a burst of changes. */
const SETTLE_MS = 150;

export function watchModules(spec: SystemSpec, reload: (agent: string) => void): () => void {
  const byFolder = new Map<string, string[]>();
  for (const agent of spec.agents) {
    const folder = agent.modulePath.endsWith('.wasm') ? agent.modulePath : dirname(agent.modulePath);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), agent.name]);
  }
  const pending = new Map<string, NodeJS.Timeout>();
  const schedule = (agent: string) => {
    clearTimeout(pending.get(agent));
    pending.set(
      agent,
      setTimeout(() => {
        pending.delete(agent);
        reload(agent);
      }, SETTLE_MS),
    );
  };
  const watchers: FSWatcher[] = [];
  for (const [target, agents] of byFolder) {
    const recursive = !target.endsWith('.wasm');
    const watcher = watch(target, { recursive }, (_event, file) => {
      if (recursive && file && !SOURCES.has(extname(String(file)))) return;
      for (const agent of agents) schedule(agent);
    });
    watchers.push(watcher);
  }
  return () => {
    for (const watcher of watchers) watcher.close();
    for (const timer of pending.values()) clearTimeout(timer);
  };
}
