// Reads system and actor files into specs; every problem becomes an issue naming file, line and field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { errorText } from '../../protocol/index.js';
import { readModels } from './models.js';
import { checkPath, display } from './paths.js';
import { DEFAULTS } from './schema.js';
import { checkSchema, type FileKind } from './schema-check.js';
import type {
  AgentSpec,
  ChildSpec,
  InferenceMode,
  Isolation,
  MailboxOverflow,
  Raw,
  RestartType,
  SystemSpec,
} from './specs.js';
import { checkToolGrants, readTools } from './tools.js';
import { checkNames, toSupervisorSpec } from './tree.js';
import { type ConfigIssue, type FieldPath, formatIssue, YamlSource } from './yaml-source.js';

/** The one error config loading throws; `issues` lists every problem found. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface LoadOptions {
  /** Paths in config may not leave this folder. Default: nearest folder up with a package.json. */
  root?: string;
}

/**
 * The name of the system a file declares, the file checked against the schema but nothing it
 * refers to read (a cluster's node needs no more: the coordinator sends it what its hosts run).
 */
export function readSystemName(file: string): string {
  const issues: ConfigIssue[] = [];
  const source = readSource(resolve(file), 'system', issues);
  if (!source) throw new ConfigError(issues);
  return (source.value as Raw).name as string;
}

/** What the system file declares that agents are granted by name (checked in each agent's capabilities). */
interface Declared {
  models: ReadonlySet<string>;
  tools: ReadonlySet<string>;
}

export function loadSystem(file: string, options: LoadOptions = {}): SystemSpec {
  const path = resolve(file);
  const root = resolve(options.root ?? findProjectRoot(dirname(path)));
  const issues: ConfigIssue[] = [];
  const source = readSource(path, 'system', issues);
  if (!source) throw new ConfigError(issues);
  const raw = source.value as Raw;
  const models = readModels(source, raw, root, issues);
  const tools = readTools(source, raw, issues);
  const declared: Declared = {
    models: new Set(models.map((model) => model.name)),
    // Every declared name, also of a server whose declaration is wrong (that is reported on its own).
    tools: new Set(((raw.tools ?? []) as Raw[]).map((tool) => tool.name as string)),
  };
  const agents: AgentSpec[] = [];
  const supervisors = new Map<string, FieldPath>();
  // `isolation` and `placement` are the nearest supervisor's defaults for agents without their own.
  const readChild = (item: unknown, at: FieldPath, inherited: Inherited): ChildSpec | undefined => {
    if (typeof item === 'string') {
      const ref = checkPath(source, at, item, root, issues);
      const actor = ref && readSource(ref, 'actor', issues);
      if (!actor) return undefined;
      agents.push(toAgentSpec(actor, [], actor.value as Raw, root, issues, at, declared, inherited));
      return { agent: (actor.value as Raw).name as string };
    }
    const node = item as Raw;
    if (typeof node.supervisor !== 'string') {
      agents.push(toAgentSpec(source, at, node, root, issues, at, declared, inherited));
      return { agent: node.name as string };
    }
    if (supervisors.has(node.supervisor)) {
      issues.push(source.issue([...at, 'supervisor'], `duplicate supervisor name "${node.supervisor}"`));
    }
    supervisors.set(node.supervisor, at);
    const inner = inherit(node, inherited);
    const children = (node.agents as unknown[]).map((child, index) =>
      readChild(child, [...at, 'agents', index], inner),
    );
    return { supervisor: toSupervisorSpec(node.supervisor, node, children) };
  };
  const rootDefaults = inherit((raw.supervisor ?? {}) as Raw, {});
  const children = (raw.agents as unknown[]).map((item, index) =>
    readChild(item, ['agents', index], rootDefaults),
  );
  if (issues.length === 0) checkNames(source, agents, supervisors, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  const scheduler = (raw.scheduler ?? {}) as Raw;
  return {
    name: raw.name as string,
    file: path,
    root,
    seed: (raw.seed as number | undefined) ?? DEFAULTS.seed,
    scheduler: {
      maxBatch: (scheduler.maxBatch as number | undefined) ?? DEFAULTS.maxBatch,
      retryLimit: (scheduler.retryLimit as number | undefined) ?? DEFAULTS.retryLimit,
      inference: (scheduler.inference as InferenceMode | undefined) ?? DEFAULTS.inference,
    },
    models,
    tools,
    supervisor: toSupervisorSpec(raw.name as string, (raw.supervisor ?? {}) as Raw, children),
    agents,
  };
}

/** Validates one system or actor file (chosen by its name), as `troupe validate` does. */
/** Checks a system or actor file; returns the agents it declares (their modules are not read). */
export function validateFile(file: string, options: LoadOptions = {}): readonly AgentSpec[] {
  if (/\.actor\.ya?ml$/.test(file)) {
    const path = resolve(file);
    const root = resolve(options.root ?? findProjectRoot(dirname(path)));
    const issues: ConfigIssue[] = [];
    const source = readSource(path, 'actor', issues);
    const agent = source ? toAgentSpec(source, [], source.value as Raw, root, issues, []) : undefined;
    if (issues.length > 0 || !agent) throw new ConfigError(issues);
    return [agent];
  }
  return loadSystem(file, options).agents;
}

export function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

function readSource(path: string, kind: FileKind, issues: ConfigIssue[]): YamlSource | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : errorText(error);
    issues.push({ file: display(path), line: 0, column: 0, field: '', message: reason });
    return undefined;
  }
  const source = new YamlSource(display(path), text);
  if (source.syntaxIssues.length > 0) {
    issues.push(...source.syntaxIssues);
    return undefined;
  }
  const schemaIssues = checkSchema(source, kind);
  issues.push(...schemaIssues);
  return schemaIssues.length > 0 ? undefined : source;
}

/** What a supervisor passes down to the agents under it that do not say for themselves. */
interface Inherited {
  isolation?: Isolation;
  placement?: string;
}

function inherit(supervisor: Raw, outer: Inherited): Inherited {
  const isolation = (supervisor.isolation as Isolation | undefined) ?? outer.isolation;
  const placement = (supervisor.placement as string | undefined) ?? outer.placement;
  return { ...(isolation ? { isolation } : {}), ...(placement ? { placement } : {}) };
}

function toAgentSpec(
  source: YamlSource,
  at: FieldPath,
  raw: Raw,
  root: string,
  issues: ConfigIssue[],
  listedAt: FieldPath,
  declared?: Declared,
  inherited: Inherited = {},
): AgentSpec {
  const modulePath = checkPath(source, [...at, 'module'], raw.module as string, root, issues) ?? '';
  const limits = (raw.limits ?? {}) as Raw;
  const sendTo = ((raw.capabilities ?? {}) as Raw).sendTo as string[] | undefined;
  const capabilities = (raw.capabilities ?? {}) as Raw;
  const models = (capabilities.models as string[] | undefined) ?? [];
  const tools = (capabilities.tools as string[] | undefined) ?? [];
  const modelNames = declared?.models;
  models.forEach((model, index) => {
    if (modelNames && !modelNames.has(model)) {
      const names = modelNames.size > 0 ? [...modelNames].join(', ') : 'none';
      const message = `model "${model}" is not declared in the system file's models (declared: ${names})`;
      issues.push(source.issue([...at, 'capabilities', 'models', index], message));
    }
  });
  if (declared) checkToolGrants(source, at, tools, declared.tools, issues);
  const line = source.issue(at, '').line;
  return {
    name: raw.name as string,
    modulePath,
    initData: encodeInit(raw.init),
    restart: (raw.restart as RestartType | undefined) ?? DEFAULTS.restart,
    limits: {
      maxMessageBytes: (limits.maxMessageBytes as number | undefined) ?? DEFAULTS.maxMessageBytes,
      fuel: (limits.fuel as number | undefined) ?? DEFAULTS.fuel,
      memoryPages: (limits.memoryPages as number | undefined) ?? DEFAULTS.memoryPages,
      maxSendsPerMessage: (limits.maxSendsPerMessage as number | undefined) ?? DEFAULTS.maxSendsPerMessage,
      mailbox: (limits.mailbox as number | undefined) ?? DEFAULTS.mailboxSize,
      overflow: (limits.overflow as MailboxOverflow | undefined) ?? DEFAULTS.mailboxOverflow,
      watchdogMs: (limits.watchdogMs as number | undefined) ?? DEFAULTS.watchdogMs,
    },
    sendTo: sendTo?.includes('*') ? '*' : new Set(sendTo ?? []),
    models: new Set(models),
    tools: new Set(tools),
    isolation: (raw.isolation as Isolation | undefined) ?? inherited.isolation ?? DEFAULTS.isolation,
    ...((raw.placement ?? inherited.placement)
      ? { placement: (raw.placement ?? inherited.placement) as string }
      : {}),
    snapshotEvery: (((raw.snapshot ?? {}) as Raw).everyTicks as number | undefined) ?? 0,
    declaredAt: `${source.file}:${line}`,
    listedAt,
  };
}

function encodeInit(init: unknown): Uint8Array {
  if (init === undefined || init === null) return new Uint8Array(0);
  return new TextEncoder().encode(typeof init === 'string' ? init : JSON.stringify(init));
}
