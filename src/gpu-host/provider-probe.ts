// Execution-provider probing (DESIGN §8): each provider is tried alone, in the configured order,
// ending with "cpu"; the first that creates a session runs, and every other one's reason is kept.
import type { ProviderSkipped } from './worker-messages.js';

/** The configured providers in order, each once, with "cpu" last. */
export function probeOrder(providers: readonly string[]): string[] {
  return [...new Set(providers.filter((provider) => provider !== 'cpu')), 'cpu'];
}

export interface Backend {
  name: string;
  bundled: boolean;
}

export interface ProbeResult<S> {
  session?: S;
  provider?: string;
  skipped: ProviderSkipped[];
}

/**
 * Tries `create` with each provider alone. Providers this build of onnxruntime-node does not know
 * are skipped without trying (ORT would drop the name silently and run on CPU).
 */
export async function probeProviders<S>(
  providers: readonly string[],
  backends: readonly Backend[],
  create: (provider: string) => Promise<S>,
): Promise<ProbeResult<S>> {
  const skipped: ProviderSkipped[] = [];
  const known = new Map(backends.map((backend) => [backend.name, backend]));
  for (const provider of probeOrder(providers)) {
    const backend = known.get(provider);
    if (!backend) {
      const built = backends.map((b) => b.name).join(', ');
      skipped.push({
        provider,
        reason: `not built into onnxruntime-node for ${process.platform}/${process.arch} (it has: ${built})`,
      });
      continue;
    }
    try {
      return { session: await create(provider), provider, skipped };
    } catch (error) {
      skipped.push({ provider, reason: explain(backend, firstLine(error)) });
    }
  }
  return { skipped };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.trim() ?? text;
}

function explain(backend: Backend, reason: string): string {
  if (backend.bundled || !/shared library/i.test(reason)) return reason;
  return `${reason} (its libraries are not installed: see docs/inference.md, "Enabling a GPU")`;
}
