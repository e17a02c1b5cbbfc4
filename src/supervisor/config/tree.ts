// The supervision tree part of a system file: supervisor specs with defaults, and name checks.
import { DEFAULTS } from './schema.js';
import type { AgentSpec, ChildSpec, Raw, Strategy, SupervisorSpec } from './specs.js';
import type { ConfigIssue, FieldPath, YamlSource } from './yaml-source.js';

export function toSupervisorSpec(
  name: string,
  raw: Raw,
  children: ReadonlyArray<ChildSpec | undefined>,
): SupervisorSpec {
  const backoff = (raw.backoff ?? {}) as Raw;
  return {
    name,
    strategy: (raw.strategy as Strategy | undefined) ?? DEFAULTS.strategy,
    maxRestarts: (raw.maxRestarts as number | undefined) ?? DEFAULTS.maxRestarts,
    periodMs: (raw.periodMs as number | undefined) ?? DEFAULTS.periodMs,
    backoff: {
      initialTicks: (backoff.initialTicks as number | undefined) ?? DEFAULTS.backoff.initialTicks,
      maxTicks: (backoff.maxTicks as number | undefined) ?? DEFAULTS.backoff.maxTicks,
      multiplier: (backoff.multiplier as number | undefined) ?? DEFAULTS.backoff.multiplier,
      jitter: (backoff.jitter as number | undefined) ?? DEFAULTS.backoff.jitter,
    },
    children: children.filter((child): child is ChildSpec => child !== undefined),
  };
}

/** Agent names are unique, supervisors do not share names with agents, sendTo names agents. */
export function checkNames(
  source: YamlSource,
  agents: readonly AgentSpec[],
  supervisors: ReadonlyMap<string, FieldPath>,
  issues: ConfigIssue[],
): void {
  const names = new Set<string>();
  for (const agent of agents) {
    if (names.has(agent.name)) {
      issues.push(source.issue(agent.listedAt, `duplicate agent name "${agent.name}" (${agent.declaredAt})`));
    }
    names.add(agent.name);
    const clash = supervisors.get(agent.name);
    if (clash)
      issues.push(
        source.issue([...clash, 'supervisor'], `"${agent.name}" names both a supervisor and an agent`),
      );
  }
  for (const agent of agents) {
    if (agent.sendTo === '*') continue;
    for (const target of agent.sendTo) {
      if (names.has(target)) continue;
      const what = `capabilities.sendTo of "${agent.name}" names "${target}", which is not an agent of this system`;
      issues.push(source.issue(agent.listedAt, `${what} (${agent.declaredAt})`));
    }
  }
}
