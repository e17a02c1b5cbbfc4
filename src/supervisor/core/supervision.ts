// OTP supervision as a pure function: given the tree, the restart history and a child that ended,
// decide which agents restart (and at which tick), which retire, and whether the system stops.
// Intensity is counted per supervisor (OTP's add_restart); past it the supervisor stops its
// children and its parent treats it as a crashed child. Backoff is counted in ticks, with jitter
// drawn from the seed, so restarts rejoin at the same tick on every run.
import { agentSeed, tickRandom } from '../../abi/index.js';
import type { AgentSpec, Backoff, ChildSpec, SupervisorSpec } from '../config/index.js';
import { addRestart, type ExitKind, shouldRestart } from './restart-policy.js';

export type Decision =
  /** Stop these agents (those running) and start them again; they rejoin at `rejoinTick`. */
  | { type: 'restart'; agents: string[]; rejoinTick: number; supervisor: string }
  /** These agents end for good: `failed` after a crash, stopped after a normal finish. */
  | { type: 'retire'; agents: string[]; failed: boolean; reason: string }
  /** The root supervisor gave up: the system stops. */
  | { type: 'shutdown'; reason: string };

export interface ChildExit {
  agent: string;
  exit: ExitKind;
  reason: string;
}

export interface SupervisionContext {
  /** Wall-clock time, for restart intensity. */
  now: number;
  /** The tick at which the exit is handled. */
  tick: number;
  seed: number;
  /** Whether an agent can still run (not retired); retired agents are never restarted. */
  alive(agent: string): boolean;
  /**
   * Intensity is the one decision that reads the clock. In a replayed tick it is data instead:
   * the restart checks the recording says gave up at this tick (the clock is not read).
   * Undefined: a live tick, where the clock decides (and what it decided comes back as
   * `escalated`, to record).
   */
  recordedEscalations?: readonly Escalation[];
}

/** A supervisor gave up on restart intensity, at its `check`-th restart check of a tick (0: first). */
export interface Escalation {
  supervisor: string;
  check: number;
}

export interface RestartHistory {
  /** Restart times (wall clock) per supervisor, within its period: for restart intensity. */
  readonly restarts: ReadonlyMap<string, readonly number[]>;
  /** Per child: its consecutive restarts and the tick it last rejoined at: for backoff. */
  readonly streaks: ReadonlyMap<string, Streak>;
  /** Per supervisor: the restart checks it made at its latest tick (names an escalation). */
  readonly checks: ReadonlyMap<string, Checks>;
}

interface Checks {
  tick: number;
  count: number;
}

interface Streak {
  count: number;
  rejoinTick: number;
}

export const NO_HISTORY: RestartHistory = { restarts: new Map(), streaks: new Map(), checks: new Map() };

interface MutableHistory {
  restarts: Map<string, readonly number[]>;
  streaks: Map<string, Streak>;
  checks: Map<string, Checks>;
}

/** The GPU host's name in the tree: a permanent child of the root supervisor, started first. */
export const GPU_HOST = '@gpu';
/** The tool host, a permanent child of the root after the GPU host (issue 28). */
export const TOOL_HOST = '@tools';

/** What the tree needs of a child: its name and restart type. */
type Child = Pick<AgentSpec, 'name' | 'restart'>;

export class SupervisionTree {
  readonly root: SupervisorSpec;
  readonly #agents = new Map<string, Child>();
  readonly #parent = new Map<string, SupervisorSpec>();

  /**
   * With `gpuHost`, the GPU host is the root's first child (so stopped last), permanent: its
   * exits are decided and escalated like any agent's, by the root's strategy and intensity.
   */
  constructor(
    root: SupervisorSpec,
    agents: readonly AgentSpec[],
    options: { gpuHost?: boolean; toolHost?: boolean } = {},
  ) {
    const services = [
      ...(options.gpuHost ? [{ agent: GPU_HOST }] : []),
      ...(options.toolHost ? [{ agent: TOOL_HOST }] : []),
    ];
    this.root = services.length > 0 ? { ...root, children: [...services, ...root.children] } : root;
    for (const agent of agents) this.#agents.set(agent.name, agent);
    if (options.gpuHost) this.#agents.set(GPU_HOST, { name: GPU_HOST, restart: 'permanent' });
    if (options.toolHost) this.#agents.set(TOOL_HOST, { name: TOOL_HOST, restart: 'permanent' });
    const index = (node: SupervisorSpec) => {
      for (const child of node.children) {
        this.#parent.set(childName(child), node);
        if ('supervisor' in child) index(child.supervisor);
      }
    };
    index(this.root);
  }

  parentOf(name: string): SupervisorSpec | undefined {
    return this.#parent.get(name);
  }

  agent(name: string): Child | undefined {
    return this.#agents.get(name);
  }

  /** The agents under a child, in start order. */
  agentsOf(child: ChildSpec): string[] {
    if ('agent' in child) return [child.agent];
    return child.supervisor.children.flatMap((grandchild) => this.agentsOf(grandchild));
  }
}

export function decideExit(
  tree: SupervisionTree,
  history: RestartHistory,
  exit: ChildExit,
  context: SupervisionContext,
): { history: RestartHistory; decisions: Decision[]; escalated: Escalation[] } {
  const spec = tree.agent(exit.agent);
  const parent = tree.parentOf(exit.agent);
  if (!spec || !parent) return { history, decisions: [], escalated: [] };
  if (!shouldRestart(spec.restart, exit.exit)) {
    const failed = exit.exit === 'crash';
    const reason = failed ? exit.reason : `finished normally (restart: ${spec.restart})`;
    return { history, decisions: [{ type: 'retire', agents: [exit.agent], failed, reason }], escalated: [] };
  }
  const next = {
    restarts: new Map(history.restarts),
    streaks: new Map(history.streaks),
    checks: new Map(history.checks),
  };
  const escalated: Escalation[] = [];
  const decisions = restartChild(tree, next, parent, exit.agent, `"${exit.agent}" ${exit.reason}`, {
    ...context,
    escalated,
  });
  return { history: next, decisions, escalated };
}

function restartChild(
  tree: SupervisionTree,
  history: MutableHistory,
  node: SupervisorSpec,
  failing: string,
  reason: string,
  context: SupervisionContext & { escalated: Escalation[] },
): Decision[] {
  const check = addRestart(history.restarts.get(node.name) ?? [], context.now, node);
  const checks = history.checks.get(node.name);
  const nth = checks?.tick === context.tick ? checks.count : 0;
  history.checks.set(node.name, { tick: context.tick, count: nth + 1 });
  const recorded = context.recordedEscalations;
  const exceeded = recorded
    ? recorded.some((escalation) => escalation.supervisor === node.name && escalation.check === nth)
    : check.exceeded;
  if (exceeded) {
    // Decided by the clock: an input the caller records (a replay gives it back as data).
    if (!recorded) context.escalated.push({ supervisor: node.name, check: nth });
    history.restarts.delete(node.name);
    const why = `supervisor "${node.name}" needed more than ${node.maxRestarts} restarts within ${node.periodMs} ms; last: ${reason}`;
    const parent = tree.parentOf(node.name);
    if (parent) return restartChild(tree, history, parent, node.name, why, context);
    const all = tree.agentsOf({ supervisor: node });
    return [
      { type: 'retire', agents: all.filter(context.alive), failed: true, reason: why },
      { type: 'shutdown', reason: `restart intensity exceeded: ${why}` },
    ];
  }
  history.restarts.set(node.name, check.history);
  const index = node.children.findIndex((child) => childName(child) === failing);
  const chosen =
    node.strategy === 'one_for_one'
      ? [node.children[index] as ChildSpec]
      : node.strategy === 'one_for_all'
        ? node.children
        : node.children.slice(index);
  const restart: string[] = [];
  const retire: string[] = [];
  for (const child of chosen) {
    // A restarted child supervisor starts with a clean slate, as in OTP.
    if ('supervisor' in child) forgetSubtree(history, child.supervisor);
    for (const agent of tree.agentsOf(child)) {
      if (!context.alive(agent) && agent !== failing) continue;
      // OTP does not restart temporary children when their siblings take them down.
      if (agent !== failing && childName(child) !== failing && tree.agent(agent)?.restart === 'temporary') {
        retire.push(agent);
      } else {
        restart.push(agent);
      }
    }
  }
  // Backoff counts consecutive restarts in ticks, never in wall time, so it is the same on every
  // run: a child that crashes again within maxTicks of rejoining continues its streak.
  const streak = history.streaks.get(failing);
  const count = streak && context.tick - streak.rejoinTick < node.backoff.maxTicks ? streak.count + 1 : 1;
  const seed = agentSeed(context.seed, `${node.name}/${failing}`);
  const rejoinTick = context.tick + backoffTicks(node.backoff, count, seed);
  history.streaks.set(failing, { count, rejoinTick });
  const decisions: Decision[] = [];
  if (retire.length > 0) {
    decisions.push({
      type: 'retire',
      agents: retire,
      failed: false,
      reason: `stopped by ${node.strategy} in "${node.name}"`,
    });
  }
  decisions.push({
    type: 'restart',
    agents: restart,
    rejoinTick,
    supervisor: node.name,
  });
  return decisions;
}

/** Ticks before the n-th consecutive restart rejoins: exponential, capped, seeded jitter. */
export function backoffTicks(backoff: Backoff, n: number, seed: number): number {
  const base = Math.min(backoff.maxTicks, Math.round(backoff.initialTicks * backoff.multiplier ** (n - 1)));
  const jitter = Math.floor(tickRandom(seed, n)() * backoff.jitter * base);
  return Math.max(1, base + jitter);
}

function forgetSubtree(history: MutableHistory, node: SupervisorSpec): void {
  history.restarts.delete(node.name);
  for (const child of node.children) if ('supervisor' in child) forgetSubtree(history, child.supervisor);
}

function childName(child: ChildSpec): string {
  return 'agent' in child ? child.agent : child.supervisor.name;
}
