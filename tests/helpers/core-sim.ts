// A simulated world for the runtime core (FoundationDB's simulator and TigerBeetle's VOPR in
// spirit): hosts, timers, a GPU and an operator, all driven by one seeded generator, with an
// oracle that checks the core's invariants after every step. No processes, no clock, no IO.
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { ExitInfo } from '../../src/launch/index.js';
import {
  type Answer,
  decodeFrame,
  decodeGpuFrame,
  decodeToolFrame,
  type Envelope,
  encodeFrame,
  encodeGpuFrame,
  encodeToolFrame,
  envelopeId,
  GENERATE_DONE_KIND,
  GENERATE_TOKEN_KIND,
  generatesText,
  type HostCommand,
  INFER_ERROR_KIND,
  INFER_RESULT_KIND,
  TOOL_ERROR_KIND,
  TOOL_PREFIX,
  TOOL_RESULT_KIND,
} from '../../src/protocol/index.js';
import type { SystemSpec } from '../../src/supervisor/config/index.js';
import type { CoreInput, Effect, HostRef, TimerRef } from '../../src/supervisor/core/index.js';
import { RuntimeCore } from '../../src/supervisor/core/index.js';
import type { ReplaySource, RunSummary, RuntimeEvent } from '../../src/supervisor/index.js';
import { EXTERNAL, MemorySnapshotStore, MODEL_PREFIX, RUNTIME } from '../../src/supervisor/index.js';
import { SimAgents } from './sim-agents.js';

interface SimHost {
  agent: string;
  /** Commands received and not yet answered, oldest first. */
  inbox: HostCommand[];
  /** Killed (or exiting): its exit is on its way. */
  dying: boolean;
  /** The generation of the last load it was sent: an older one's ready is stale. */
  generation: number;
  /** How it ends, once it is dying (a chaos world rolls it when it ends). */
  exit?: ExitInfo;
}

/** The GPU host: requests it was sent and has not finally answered, and those it has. */
interface SimGpu {
  ref: HostRef;
  requests: Array<{ id: string; model: string; streamed: number }>;
  answered: Array<{ id: string; model: string }>;
  dying: boolean;
  exit?: ExitInfo;
}

/** The tool host: calls it was sent and has not answered, and those it has. */
interface SimTools {
  ref: HostRef;
  calls: string[];
  answered: string[];
  dying: boolean;
  exit?: ExitInfo;
}

/** The kinds of a model's or a tool's final answer to a request. */
const FINAL_ANSWERS = new Set([
  INFER_RESULT_KIND,
  INFER_ERROR_KIND,
  GENERATE_DONE_KIND,
  TOOL_RESULT_KIND,
  TOOL_ERROR_KIND,
]);

/**
 * What the world does.
 * - `chaos`: anything, a host sending garbage and a watchdog firing on a host that is only slow
 *   included (both are Troupe's own failures, not inputs a journal records).
 * - `recorded`: only what a journal records comes from outside: kills (one host, or several at
 *   once as when a node is lost), injections and re-sends, GPU answers and deaths, operator
 *   commands. A watchdog fires only on a host that hangs.
 * - `replay`: nothing comes from outside but pause, resume and step; hosts answer in the world's
 *   own order, and the watchdog fires only on a host that hangs.
 */
export type World = 'chaos' | 'recorded' | 'replay';

export interface SimOptions {
  journaled?: boolean;
  world?: World;
  /** Replays a recording: no GPU host, and the run stops at the recording's last tick. */
  replay?: ReplaySource;
  /** The agents' salt (SimAgents): a replay's agents must be those of the recorded run. */
  salt?: number;
  /** Keep every event in `log`, and every command sent to a host in `hostLog`. */
  log?: boolean;
}

const KILLED: ExitInfo = { code: null, signal: 'SIGKILL', stderrTail: '', killed: true };
const KILLED_OUTSIDE: ExitInfo = { code: null, signal: 'SIGKILL', stderrTail: '', killed: false };
const NODE_LOST: ExitInfo = { code: null, signal: null, stderrTail: 'node lost', killed: false };
const STOPPED: ExitInfo = { code: 0, signal: null, stderrTail: '', killed: false };
const OUT_OF_MEMORY: ExitInfo = {
  code: 1,
  signal: null,
  stderrTail: 'out of memory',
  killed: false,
  thread: true,
  culprit: true,
};

/** How often each kind of thing happens, per step (relative weights). */
const WEIGHTS = {
  answer: 60,
  exit: 12,
  timer: 3,
  gpu: 8,
  inject: 6,
  kill: 1,
  restart: 1,
  garbage: 0.3,
  pause: 0.6,
  resume: 1,
  step: 1,
  reinject: 1,
  gpuDeath: 0.3,
  gpuRepeat: 0.5,
  tools: 6,
  toolsDeath: 0.3,
  nodeLoss: 0.3,
};

export class Violation extends Error {}

export class CoreSimulation {
  readonly core: RuntimeCore;
  readonly #spec: SystemSpec;
  readonly #random: () => number;
  #now = 0;
  readonly #hosts = new Map<HostRef, SimHost>();
  readonly #timers = new Map<TimerRef, number>();
  #gpu: SimGpu | undefined;
  /** Every GPU host the core started. */
  readonly #gpuRefs = new Set<HostRef>();
  #tools: SimTools | undefined;
  /** Every tool host the core started. */
  readonly #toolRefs = new Set<HostRef>();
  toolDeaths = 0;
  /** Request ids the GPU host was ever sent (a request sent again after a restart is asked once). */
  readonly #asked = new Set<string>();
  /** Per request id, the envelope its final answer came in: a request is answered once. */
  readonly #finalAnswers = new Map<string, string>();
  /** Per final answer's envelope id, the request it answers. */
  readonly #answerTo = new Map<string, string>();
  #nextToken = 0;
  readonly #world: World;
  /** The recording a replay is given, as the core asks for it, and how many parts it was given in. */
  readonly #replay: ReplaySource | undefined;
  recordingParts = 0;
  /**
   * Whether the oracle keeps its books of messages in and out. Not in a replay: what enters from
   * the recording is staged by the core itself (the recorded run kept the books, and the replay
   * is checked against it).
   */
  readonly #books: boolean;
  readonly agents: SimAgents;
  summary: RunSummary | undefined;
  /** The last 200 events. */
  readonly events: RuntimeEvent[] = [];
  /** Every event, when the options ask for it (to look into a failure). */
  readonly log: RuntimeEvent[] | undefined;
  /** Every command sent to a host, as a line (with the log): where two runs part, look here. */
  readonly hostLog: string[] | undefined;
  steps = 0;
  readonly #digest = createHash('sha256');
  gpuDeaths = 0;
  gpuRestarts = 0;
  // ---- the oracle's books ----
  /** Per token: times it entered the core minus times it left (applied, dead, rejected, asked). */
  readonly #balance = new Map<string, number>();
  /** Envelope ids applied by an agent (their batch completed): never twice. */
  readonly #applied = new Set<string>();
  /** Per agent: the key of the last envelope it applied (ordering must increase). */
  readonly #lastKey = new Map<string, [number, number, number]>();
  readonly #rank: (source: string) => number;
  #stopping = false;
  readonly #state = new Map<string, string>();
  readonly #temporary = new Set<string>();
  readonly #mailboxLimit = new Map<string, number>();
  readonly tokensLeft = { applied: 0, dead: 0, rejected: 0, asked: 0, discarded: 0 };
  /** Agents restarted or retired by the input being handled: what their init sent is dropped. */
  readonly #restarted = new Set<string>();
  /** A journaled run's journal effects, in order (records as they would be written). */
  readonly journal: Array<Extract<Effect, { type: 'record' | 'tickDone' | 'closeJournal' }>> = [];

  constructor(spec: SystemSpec, random: () => number, options: SimOptions = {}) {
    this.#spec = spec;
    this.#random = random;
    this.#world = options.world ?? 'chaos';
    this.#replay = options.replay;
    this.#books = this.#world !== 'replay';
    this.log = options.log ? [] : undefined;
    this.hostLog = options.log ? [] : undefined;
    const names = spec.agents.map((agent) => agent.name);
    const salt = options.salt ?? Math.floor(random() * 2 ** 31);
    this.agents = new SimAgents(
      salt,
      names,
      spec.models.map(({ name, type }) => ({ name, type })),
    );
    this.core = new RuntimeCore(spec, {
      backend: 'sim',
      gpu: options.replay === undefined,
      tools: options.replay === undefined,
      ...(options.replay ? { replay: true, maxTicks: options.replay.lastTick } : {}),
      startConcurrency: 2,
      startTimeoutMs: 5_000,
      shutdownMs: 1_000,
      snapshots: new MemorySnapshotStore(),
      journaled: options.journaled ?? false,
    });
    const agents = spec.agents.map((agent) => agent.name).sort();
    const models = spec.models.map((model) => model.name).sort();
    const tools = spec.tools.map((tool) => tool.name).sort();
    this.#rank = (source) => {
      if (source === EXTERNAL) return -1;
      if (source === RUNTIME) return -2;
      if (source.startsWith(MODEL_PREFIX))
        return models.indexOf(source.slice(MODEL_PREFIX.length)) - models.length - 2;
      if (source.startsWith(TOOL_PREFIX))
        return tools.indexOf(source.slice(TOOL_PREFIX.length)) - tools.length - models.length - 2;
      return agents.indexOf(source);
    };
    for (const agent of spec.agents) {
      this.#mailboxLimit.set(agent.name, agent.limits.mailbox);
      // OTP restarts a temporary child only with its whole supervisor, and the root is never restarted.
      const underRoot = spec.supervisor.children.some(
        (child) => 'agent' in child && child.agent === agent.name,
      );
      if (agent.restart === 'temporary' && underRoot) this.#temporary.add(agent.name);
    }
  }

  /** Starts the run: every module "prepared" (one refused now and then). */
  start(): void {
    this.#feed({ type: 'start' });
    for (const agent of this.#spec.agents) {
      const refused = this.agents.refused(agent.name);
      this.#feed({
        type: 'prepared',
        agent: agent.name,
        result: refused
          ? { ok: false, reason: 'refused by the simulation' }
          : { ok: true, path: `/sim/${agent.name}` },
      });
    }
  }

  /** One random step of the world; false once the run is over. */
  step(): boolean {
    if (this.summary) return false;
    this.steps++;
    this.#now += Math.floor(this.#random() * 20);
    const choice = this.#pick();
    choice();
    return !this.summary;
  }

  /** A digest of every effect the core returned so far, in order. */
  effectDigest(): string {
    return this.#digest.copy().digest('hex');
  }

  /** Asks the system to stop and runs the world until it has ended (hosts answer, timers fire). */
  finish(maxSteps: number): void {
    this.#feed({ type: 'control', command: { type: 'stop', reason: 'simulation over', ok: true } });
    for (let i = 0; i < maxSteps && !this.summary; i++) {
      this.steps++;
      const host = [...this.#hosts.entries()].find(([, h]) => h.inbox.length > 0 || h.dying);
      if (host) this.#answer(host[0], host[1]);
      else if (this.#gpuBusy()) this.#gpuStep();
      else if (this.#toolsBusy()) this.#toolsStep();
      else if (this.#timers.size > 0) this.#fireTimer();
      else break;
    }
    if (!this.summary) this.#fail('the system did not end after being asked to stop');
  }

  #pick(): () => void {
    const hosts = [...this.#hosts.entries()];
    const busy = hosts.filter(([, host]) => host.inbox.length > 0 || host.dying);
    const live = hosts.filter(([, host]) => !host.dying);
    const names = this.#spec.agents.map((agent) => agent.name);
    const chaos = this.#world === 'chaos';
    // Outside a chaos world, anything from outside but pause, resume and step is what a journal
    // records: a replay gets it from the recording, never from the world.
    const outside = this.#world !== 'replay';
    const gpu = this.#gpu;
    const quiet = busy.length === 0 && !this.#gpuBusy() && !this.#toolsBusy();
    const tools = this.#tools;
    // A timer fires when nothing else can happen; in chaos, also while hosts are only slow.
    const timer = this.#timers.size === 0 ? 0 : quiet ? 50 : chaos ? WEIGHTS.timer : 0;
    const options: Array<[number, () => void]> = [
      [busy.length > 0 ? WEIGHTS.answer : 0, () => this.#answer(...this.#one(busy))],
      [timer, () => this.#fireTimer()],
      [this.#gpuBusy() ? WEIGHTS.gpu : 0, () => this.#gpuStep()],
      [this.#toolsBusy() ? WEIGHTS.tools : 0, () => this.#toolsStep()],
      [chaos && (tools?.answered.length ?? 0) > 0 ? WEIGHTS.gpuRepeat : 0, () => this.#toolsRepeat()],
      [
        outside && tools && !tools.dying ? WEIGHTS.toolsDeath : 0,
        () => {
          this.toolDeaths++;
          this.#toolsKill(KILLED_OUTSIDE);
        },
      ],
      [chaos && (gpu?.answered.length ?? 0) > 0 ? WEIGHTS.gpuRepeat : 0, () => this.#gpuRepeat()],
      [chaos && gpu && !gpu.dying ? WEIGHTS.garbage : 0, () => this.#garbage(gpu?.ref ?? -1)],
      [outside ? WEIGHTS.inject : 0, () => this.#inject()],
      [outside && live.length > 0 ? WEIGHTS.kill : 0, () => this.#kill(this.#one(live)[0], KILLED_OUTSIDE)],
      [outside && live.length > 0 ? WEIGHTS.nodeLoss : 0, () => this.#nodeLoss(live)],
      [outside ? WEIGHTS.restart : 0, () => this.#control({ type: 'restart', agent: this.#one(names) })],
      [chaos && live.length > 0 ? WEIGHTS.garbage : 0, () => this.#garbage(this.#one(live)[0])],
      [WEIGHTS.pause, () => this.#control({ type: 'pause' })],
      [WEIGHTS.resume, () => this.#control({ type: 'resume' })],
      [WEIGHTS.step, () => this.#control({ type: 'step' })],
      [outside ? WEIGHTS.reinject : 0, () => this.#reinject()],
      [
        outside && gpu && !gpu.dying ? WEIGHTS.gpuDeath : 0,
        () => {
          this.gpuDeaths++;
          this.#gpuKill(KILLED_OUTSIDE);
        },
      ],
    ];
    const total = options.reduce((sum, [weight]) => sum + weight, 0);
    let at = this.#random() * total;
    for (const [weight, run] of options) {
      if (at < weight) return run;
      at -= weight;
    }
    return () => this.#control({ type: 'resume' });
  }

  #one<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }

  // ---- the world's actions ----

  /** A host answers its oldest command, or its exit arrives. */
  #answer(ref: HostRef, host: SimHost): void {
    if (host.dying) {
      this.#hosts.delete(ref);
      this.#feed({ type: 'exit', host: ref, info: this.#exitOf(host) });
      return;
    }
    const command = host.inbox.shift() as HostCommand;
    const agent = host.agent;
    if (command.load) {
      const generation = command.load.generation ?? 0;
      const init = this.agents.init(agent, command.load.snapshot ?? undefined);
      if (init.failed) {
        this.#frame(ref, { agent, loadFailed: { generation, reason: 'sim: load failed' } });
      } else {
        this.#frame(ref, { agent, ready: { generation, abi: 'troupe/1', outputs: init.outputs } });
      }
    } else if (command.deliver) {
      this.#deliver(ref, agent, command.deliver.tick ?? 0, command.deliver.envelopes ?? []);
    } else if (command.stop) {
      this.#kill(ref, STOPPED);
    }
  }

  /** How a dying host ends: as it was ended, or in chaos at random. */
  #exitOf(host: SimHost): ExitInfo {
    if (this.#world !== 'chaos') return host.exit ?? STOPPED;
    const roll = this.#random();
    // Killed, exited, or ended by itself while running its agent (a thread past its heap limit).
    return roll < 0.4 ? KILLED : roll < 0.6 ? OUT_OF_MEMORY : STOPPED;
  }

  #deliver(ref: HostRef, agent: string, tick: number, envelopes: readonly Envelope[]): void {
    const outcome = this.agents.handle(agent, envelopes);
    if (outcome.type === 'trap') {
      this.#frame(ref, { agent, failed: { tick, reason: 'sim: trap', index: outcome.index } });
      return;
    }
    if (outcome.type === 'hang') return; // only the watchdog ends it
    if (outcome.type === 'oom') {
      this.#kill(ref, OUT_OF_MEMORY);
      return;
    }
    const { outputs, finished, handled, snapshot } = outcome;
    const inflight = this.core.inflight(agent);
    const accepted = inflight.length > 0 && this.core.tick === tick && this.core.agentOf(ref) === agent;
    this.#frame(
      ref,
      { agent, done: { tick, outputs, finished, handled, ...(snapshot ? { snapshot } : {}) } },
      () => {
        if (!accepted) return;
        for (const envelope of envelopes.slice(0, handled)) this.#apply(agent, envelope);
      },
    );
  }

  #inject(): void {
    const names = this.#spec.agents.map((spec) => spec.name);
    const token = `sim:${this.#nextToken++}`;
    const to = this.#random() < 0.05 ? 'nobody' : this.#one(names);
    this.#enterTokens([token]);
    this.#feed({
      type: 'control',
      command: { type: 'inject', to, kind: token, payload: new Uint8Array(4), correlationId: '' },
    });
  }

  #reinject(): void {
    const letters = this.core.deadLetters();
    if (letters.length === 0) return;
    const letter = this.#one(letters);
    const kind = letter.envelope.kind ?? '';
    if (kind.startsWith('sim:')) this.#enterTokens([kind]);
    this.#feed({ type: 'control', command: { type: 'reinject', id: envelopeId(letter.envelope) } });
  }

  /** The host is ending (its exit comes when the world picks it), as `exit` says. */
  #kill(ref: HostRef, exit: ExitInfo): void {
    const host = this.#hosts.get(ref);
    if (!host || host.dying) return;
    host.dying = true;
    host.exit = exit;
  }

  /** Several hosts end at once, as when the node they ran on is lost. */
  #nodeLoss(live: ReadonlyArray<[HostRef, SimHost]>): void {
    for (const [ref] of live) if (this.#random() < 0.5) this.#kill(ref, NODE_LOST);
  }

  #garbage(ref: HostRef): void {
    this.#feed({ type: 'frame', host: ref, bytes: new Uint8Array([0xff, 0xff, 0xff]) });
  }

  #fireTimer(): void {
    const [timer, at] = [...this.#timers.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0] as [
      TimerRef,
      number,
    ];
    this.#timers.delete(timer);
    this.#now = Math.max(this.#now, at);
    this.#feed({ type: 'timer', timer });
  }

  #toolsBusy(): boolean {
    return this.#tools !== undefined && (this.#tools.calls.length > 0 || this.#tools.dying);
  }

  /** The tool host answers a call (a result, or a tool's error now and then), or its exit arrives. */
  #toolsStep(): void {
    const tools = this.#tools as SimTools;
    if (tools.dying && (tools.calls.length === 0 || this.#random() < 0.5)) {
      this.#tools = undefined;
      this.#feed({ type: 'exit', host: tools.ref, info: tools.exit ?? STOPPED });
      return;
    }
    const [id] = tools.calls.splice(Math.floor(this.#random() * tools.calls.length), 1) as [string];
    tools.answered.push(id);
    this.#toolsAnswer(tools, id, this.#random() < 0.2);
  }

  /** In chaos, the tool host answers a call it answered before: the core must drop it. */
  #toolsRepeat(): void {
    const tools = this.#tools as SimTools;
    this.#toolsAnswer(tools, this.#one(tools.answered), false);
  }

  #toolsAnswer(tools: SimTools, id: string, failed: boolean): void {
    const answer = failed
      ? { id, server: 't', errorCode: 'TOOL_ERROR', errorMessage: 'sim: the tool said no' }
      : { id, server: 't', result: '{"content":[]}' };
    this.#feed({ type: 'frame', host: tools.ref, bytes: encodeToolFrame({ events: [{ answer }] }) });
  }

  #toolsKill(exit: ExitInfo): void {
    const tools = this.#tools;
    if (!tools || tools.dying) return;
    tools.dying = true;
    tools.exit = exit;
  }

  /** What the core sends the tool host: calls (each asked once), and its stop. */
  #toolsCommands(tools: SimTools, bytes: Uint8Array): void {
    const decoded = decodeToolFrame(bytes);
    if (!decoded.ok) this.#fail(`the core sent the tool host a malformed frame: ${decoded.error}`);
    if (!decoded.ok) return;
    for (const command of decoded.frame.commands) {
      if (command.call) {
        const id = command.call.id ?? '';
        if (this.#asked.has(id)) this.#fail(`tool call ${id} was sent to the tool host twice`);
        this.#asked.add(id);
        const token = (JSON.parse(command.call.arguments || '{}') as { token?: string }).token;
        if (token) this.#leave(token, 'asked');
        if (!tools.dying) tools.calls.push(id);
      } else if (command.stop) {
        this.#toolsKill(STOPPED);
      }
    }
  }

  #gpuBusy(): boolean {
    return this.#gpu !== undefined && (this.#gpu.requests.length > 0 || this.#gpu.dying);
  }

  /**
   * The GPU host answers a request (an LLM's with a streamed token now and then first), or its
   * exit arrives: a dying host may still answer what it held before it ends.
   */
  #gpuStep(): void {
    const gpu = this.#gpu as SimGpu;
    if (gpu.dying && (gpu.requests.length === 0 || this.#random() < 0.5)) {
      this.#gpu = undefined;
      this.#feed({ type: 'exit', host: gpu.ref, info: gpu.exit ?? STOPPED });
      return;
    }
    const index = Math.floor(this.#random() * gpu.requests.length);
    const request = gpu.requests[index] as SimGpu['requests'][number];
    const llm = this.#spec.models.some((model) => model.name === request.model && generatesText(model.type));
    if (llm && request.streamed < 3 && this.#random() < 0.5) {
      request.streamed++;
      this.#gpuAnswer(gpu, { ...request, kind: GENERATE_TOKEN_KIND, partial: true });
      return;
    }
    gpu.requests.splice(index, 1);
    gpu.answered.push(request);
    this.#gpuAnswer(gpu, { ...request, kind: llm ? GENERATE_DONE_KIND : '', partial: false });
  }

  /** In chaos, the GPU host answers a request it answered before: the core must drop it. */
  #gpuRepeat(): void {
    const gpu = this.#gpu as SimGpu;
    this.#gpuAnswer(gpu, { ...this.#one(gpu.answered), kind: '', partial: false });
  }

  #gpuAnswer(gpu: SimGpu, answer: { id: string; model: string; kind: string; partial: boolean }): void {
    const { id, model, kind, partial } = answer;
    const event: Answer = { id, model, kind, result: new Uint8Array([7]), partial };
    this.#feed({ type: 'frame', host: gpu.ref, bytes: encodeGpuFrame({ events: [{ answer: event }] }) });
  }

  /** The GPU host is ending (its exit comes when the world picks it). */
  #gpuKill(exit: ExitInfo): void {
    const gpu = this.#gpu;
    if (!gpu || gpu.dying) return;
    gpu.dying = true;
    gpu.exit = exit;
  }

  /** What the core sends the GPU host: requests (each asked once, however often sent), and its stop. */
  #gpuCommands(gpu: SimGpu, bytes: Uint8Array): void {
    const decoded = decodeGpuFrame(bytes);
    if (!decoded.ok) this.#fail(`the core sent the GPU host a malformed frame: ${decoded.error}`);
    if (!decoded.ok) return;
    for (const command of decoded.frame.commands) {
      if (command.infer) {
        const { id = '', model = '', request } = command.infer;
        this.hostLog?.push(`gpu@${this.core.tick} infer ${id}`);
        if (!this.#asked.has(id ?? '')) {
          this.#asked.add(id ?? '');
          this.#leave(new TextDecoder().decode(request ?? new Uint8Array(0)), 'asked');
        }
        if (!gpu.dying) gpu.requests.push({ id: id ?? '', model: model ?? '', streamed: 0 });
      } else if (command.stop) {
        this.#gpuKill(STOPPED);
      }
    }
  }

  #control(command: Extract<CoreInput, { type: 'control' }>['command']): void {
    this.#feed({ type: 'control', command });
  }

  #frame(
    ref: HostRef,
    event: NonNullable<Parameters<typeof encodeFrame>[0]['events']>[number],
    after?: () => void,
  ): void {
    const given = [...(event.ready?.outputs ?? []), ...(event.done?.outputs ?? [])];
    const accepted = this.#accepts(ref, event);
    if (accepted)
      this.#enterTokens(given.map(tokenOf).filter((token): token is string => token !== undefined));
    after?.();
    this.#feed({ type: 'frame', host: ref, bytes: encodeFrame({ events: [event] }) });
  }

  /** Whether the core takes the outputs of this report (the current host, its generation or tick). */
  #accepts(
    ref: HostRef,
    event: {
      agent?: string | null;
      ready?: { generation?: number | null } | null;
      done?: { tick?: number | null } | null;
    },
  ): boolean {
    const agent = event.agent ?? '';
    if (this.core.agentOf(ref) !== agent) return false;
    if (event.ready && event.ready.generation !== this.#hosts.get(ref)?.generation) return false;
    if (event.done) return this.core.inflight(agent).length > 0 && this.core.tick === event.done.tick;
    if (event.ready) {
      const state = this.core.agents().find((status) => status.name === agent)?.state;
      return state === 'starting' || state === 'restarting';
    }
    return false;
  }

  // ---- effects, and the oracle watching them ----

  /** Inputs an effect caused, fed once the input being handled is done (as an executor queues them). */
  readonly #queued: CoreInput[] = [];
  #feeding = false;

  #feed(input: CoreInput): void {
    this.#queued.push(input);
    if (this.#feeding) return;
    this.#feeding = true;
    try {
      for (let next = this.#queued.shift(); next; next = this.#queued.shift()) this.#handle(next);
    } finally {
      this.#feeding = false;
    }
  }

  #handle(input: CoreInput): void {
    const init = new Map(this.#spec.agents.map(({ name }) => [name, this.core.initOutputs(name)]));
    this.#restarted.clear();
    for (const effect of this.core.handle(input, this.#now)) this.#perform(effect);
    // Init outputs of an instance replaced before it rejoined are discarded with that instance.
    for (const [agent, outputs] of init) {
      if (this.core.initOutputs(agent) === outputs || !this.#restarted.has(agent)) continue;
      for (const output of outputs) {
        const token = tokenOf(output);
        if (token && !this.core.staging().some((staged) => staged.output === output))
          this.#leave(token, 'discarded');
      }
    }
    this.#check(input);
  }

  #perform(effect: Effect): void {
    // The models' folder is a new temporary one each time: the GPU host is sent their paths.
    const folder = Buffer.from(dirname(this.#spec.models[0]?.path ?? '/')).toString('hex');
    this.#digest.update(describeEffect(effect).replaceAll(folder, 'folder'));
    switch (effect.type) {
      case 'spawn':
        this.#hosts.set(effect.host, { agent: effect.agent, inbox: [], dying: false, generation: -1 });
        return;
      case 'spawnTools':
        if (this.#tools) this.#fail(`a tool host was started while host ${this.#tools.ref} had not exited`);
        this.#tools = { ref: effect.host, calls: [], answered: [], dying: false };
        this.#toolRefs.add(effect.host);
        return;
      case 'spawnGpu':
        if (this.#gpu) this.#fail(`a GPU host was started while host ${this.#gpu.ref} had not exited`);
        this.#gpu = { ref: effect.host, requests: [], answered: [], dying: false };
        this.#gpuRefs.add(effect.host);
        if (effect.restarts > 0) this.gpuRestarts++;
        return;
      case 'send': {
        if (this.#gpu?.ref === effect.host) {
          this.#gpuCommands(this.#gpu, effect.bytes);
          return;
        }
        if (this.#tools?.ref === effect.host) {
          this.#toolsCommands(this.#tools, effect.bytes);
          return;
        }
        if (this.#toolRefs.has(effect.host))
          this.#fail(`the core sent to tool host ${effect.host} after its exit`);
        if (this.#gpuRefs.has(effect.host))
          this.#fail(`the core sent to GPU host ${effect.host} after its exit`);
        const host = this.#hosts.get(effect.host);
        const decoded = decodeFrame(effect.bytes);
        if (!decoded.ok) this.#fail(`the core sent a malformed frame: ${decoded.error}`);
        if (!host || host.dying || !decoded.ok) return;
        for (const command of decoded.frame.commands) {
          this.hostLog?.push(describeCommand(host.agent, this.core.tick, command));
          if (command.load) host.generation = command.load.generation ?? 0;
          host.inbox.push(command);
        }
        return;
      }
      case 'kill':
        if (this.#gpu?.ref === effect.host) this.#gpuKill(KILLED);
        else if (this.#tools?.ref === effect.host) this.#toolsKill(KILLED);
        else this.#kill(effect.host, KILLED);
        return;
      case 'arm':
        this.#timers.set(effect.timer, this.#now + effect.ms);
        return;
      case 'disarm':
        this.#timers.delete(effect.timer);
        return;
      case 'emit':
        this.#observe(effect.event);
        return;
      case 'batch':
        this.#batch(effect.agent, effect.envelopes);
        return;
      case 'requests':
        return;
      case 'finished':
        this.summary = effect.summary;
        return;
      case 'recording.wanted': {
        // The recording is given as the core asks for it, as an executor gives it (Runtime).
        const slice = this.#replay?.want(effect.tick);
        if (slice) {
          this.recordingParts++;
          this.#feed({ type: 'recording', ...slice });
        }
        return;
      }
      case 'record':
      case 'tickDone':
      case 'closeJournal':
        if (this.summary) this.#fail(`a journal effect (${effect.type}) after the run finished`);
        this.journal.push(effect);
        return;
      default:
        return;
    }
  }

  #observe(event: RuntimeEvent): void {
    this.events.push(event);
    if (this.events.length > 200) this.events.shift();
    this.log?.push(event);
    if (event.type === 'message.dead') this.#leave(event.kind, 'dead');
    else if (event.type === 'message.rejected') this.#leave(event.kind, 'rejected');
    else if (event.type === 'system.stopping') this.#stopping = true;
    // A model's answer that died and is sent again (by the world, or the recording replayed) comes
    // as a new envelope.
    else if (event.type === 'message.reinjected')
      this.#finalAnswers.delete(this.#answerTo.get(event.id) ?? '');
    else if (event.type === 'supervisor.decided' && event.decision === 'retire')
      for (const agent of event.agents) this.#restarted.add(agent);
    else if (event.type === 'agent.state') {
      if (this.#temporary.has(event.agent) && (event.state === 'restarting' || event.state === 'backoff'))
        this.#fail(`temporary agent "${event.agent}" was restarted`);
      if (!['running', 'starting'].includes(event.state)) this.#restarted.add(event.agent);
      this.#state.set(event.agent, event.state);
    }
  }

  #batch(agent: string, envelopes: readonly Envelope[]): void {
    if (this.#stopping) this.#fail(`a batch went to "${agent}" after the system began to stop`);
    const state = this.#state.get(agent);
    if (state !== 'running') this.#fail(`a batch went to "${agent}" while it is ${state}`);
    if (envelopes.length === 0) this.#fail(`an empty batch went to "${agent}"`);
    const limit = this.#spec.scheduler.maxBatch;
    if (envelopes.length > limit)
      this.#fail(`a batch of ${envelopes.length} went to "${agent}" (maxBatch ${limit})`);
    for (const envelope of envelopes) {
      if (envelope.to !== agent) this.#fail(`"${agent}" got an envelope for "${envelope.to}"`);
      if (this.#applied.has(envelopeId(envelope)))
        this.#fail(`envelope ${envelopeId(envelope)} went to "${agent}" again after it was applied`);
      this.#finalAnswer(envelope);
    }
  }

  /** A model's final answer to a request comes in one envelope, whatever the GPU host sent (and sent again). */
  #finalAnswer(envelope: Envelope): void {
    // A replay gets answers from the recording, a re-sent one as a plain input: the recorded run
    // checked them.
    const from = envelope.from ?? '';
    const answerer = from.startsWith(MODEL_PREFIX) || from.startsWith(TOOL_PREFIX);
    if (!this.#books || !answerer || !FINAL_ANSWERS.has(envelope.kind ?? '')) return;
    const request = envelope.correlationId ?? '';
    this.#answerTo.set(envelopeId(envelope), request);
    const first = this.#finalAnswers.get(request);
    if (first === undefined) this.#finalAnswers.set(request, envelopeId(envelope));
    else if (first !== envelopeId(envelope))
      this.#fail(`request ${request} was answered twice (${first}, then ${envelopeId(envelope)})`);
  }

  /** An agent applied an envelope (its batch completed with it handled). */
  #apply(agent: string, envelope: Envelope): void {
    const id = envelopeId(envelope);
    if (this.#applied.has(id)) this.#fail(`envelope ${id} was applied twice`);
    this.#applied.add(id);
    const key: [number, number, number] = [
      envelope.tick ?? 0,
      this.#rank(envelope.from ?? ''),
      envelope.seq ?? 0,
    ];
    const last = this.#lastKey.get(agent);
    if (last && compareKeys(key, last) <= 0)
      this.#fail(`"${agent}" applied ${id} with key ${key} after key ${last}: ordering keys must increase`);
    this.#lastKey.set(agent, key);
    const token = tokenOf(envelope);
    if (token) this.#leave(token, 'applied');
  }

  #enterTokens(tokens: readonly string[]): void {
    for (const token of tokens) this.#balance.set(token, (this.#balance.get(token) ?? 0) + 1);
  }

  #leave(token: string, how: keyof CoreSimulation['tokensLeft']): void {
    if (!token.startsWith('sim:') || !this.#books) return;
    const balance = (this.#balance.get(token) ?? 0) - 1;
    if (balance < 0) this.#fail(`message ${token} left the core (${how}) more often than it entered`);
    if (balance === 0) this.#balance.delete(token);
    else this.#balance.set(token, balance);
    this.tokensLeft[how]++;
  }

  /** After every input: every message that entered is held exactly once, and mailboxes are in bounds. */
  #check(input: CoreInput): void {
    if (!this.#books) return;
    const held = new Map<string, number>();
    const hold = (token: string | undefined) => {
      if (token) held.set(token, (held.get(token) ?? 0) + 1);
    };
    for (const { name } of this.#spec.agents) {
      const { queued } = this.core.mailbox(name);
      const limit = this.#mailboxLimit.get(name) ?? 0;
      // A batch given back after a crash may stand above the bound for a while: it was admitted.
      const inflight = this.core.inflight(name);
      if (queued.length > limit + this.#spec.scheduler.maxBatch)
        this.#fail(`the mailbox of "${name}" holds ${queued.length}, above its bound ${limit}`);
      for (const envelope of queued) hold(tokenOf(envelope));
      for (const envelope of inflight) hold(tokenOf(envelope));
    }
    for (const { output } of this.core.staging()) hold(tokenOf(output));
    for (const { name } of this.#spec.agents)
      for (const output of this.core.initOutputs(name)) hold(tokenOf(output));
    for (const [token, count] of this.#balance) {
      const found = held.get(token) ?? 0;
      if (found !== count)
        this.#fail(
          `message ${token} entered ${count} more time(s) than it left, but the core holds it ${found} time(s) (after ${input.type})`,
        );
    }
    for (const [token] of held) {
      if (!this.#balance.has(token))
        this.#fail(`the core holds message ${token}, which it should not (after ${input.type})`);
    }
  }

  #fail(message: string): never {
    throw new Violation(`step ${this.steps}: ${message}`);
  }
}

/** An effect as text, bytes in hex: two runs with the same inputs must produce the same text. */
function describeEffect(effect: Effect): string {
  // A Buffer has turned itself into { type: 'Buffer', data } before the replacer sees it.
  return JSON.stringify(effect, (_key, value) =>
    value instanceof Uint8Array
      ? Buffer.from(value).toString('hex')
      : value?.type === 'Buffer' && Array.isArray(value.data)
        ? Buffer.from(value.data).toString('hex')
        : value,
  );
}

/** A command to a host as one line: what it loads from, or the envelopes of its batch. */
function describeCommand(agent: string, tick: number, command: HostCommand): string {
  const { load, deliver } = command;
  if (load) {
    const snapshot = Buffer.from(load.snapshot ?? []).toString('hex');
    return `${agent} at ${tick}: load generation ${load.generation} snapshot ${snapshot} nextSeq ${load.nextSeq}`;
  }
  if (deliver) {
    const envelopes = (deliver.envelopes ?? []).map(
      (envelope) =>
        `${envelopeId(envelope)}@${envelope.tick} ${envelope.kind} ${Buffer.from(envelope.payload ?? []).toString('hex')}`,
    );
    return `${agent} tick ${deliver.tick}: [${envelopes.join(', ')}] nextSeq ${deliver.nextSeq}`;
  }
  return `${agent} at ${tick}: stop`;
}

function tokenOf(message: {
  to?: string | null;
  kind?: string | null;
  payload?: Uint8Array | null;
}): string | undefined {
  if (message.to?.startsWith(MODEL_PREFIX))
    return new TextDecoder().decode(message.payload ?? new Uint8Array(0));
  if (message.to?.startsWith(TOOL_PREFIX)) {
    const call = JSON.parse(new TextDecoder().decode(message.payload ?? new Uint8Array(0)));
    return (call as { arguments?: { token?: string } }).arguments?.token;
  }
  const kind = message.kind ?? '';
  return /^sim:\d+$/.test(kind) ? kind : undefined;
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}
