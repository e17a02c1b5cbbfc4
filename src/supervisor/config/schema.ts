// JSON Schemas of the system and actor files: used to validate, and published for editors.
import { DEFAULTS, NAME_PATTERN, TOOL_GRANT_PATTERN } from './schema-defaults.js';
import { modelDefinition, toolDefinition } from './schema-services.js';

export { DEFAULTS, NAME_PATTERN, TOOL_GRANT_PATTERN } from './schema-defaults.js';

const actorProperties = {
  name: { type: 'string', pattern: NAME_PATTERN, description: 'Unique agent name; also its address.' },
  module: { type: 'string', minLength: 1, description: 'Path of the WASM module, relative to this file.' },
  init: {
    description: 'Init data passed to troupe_init: a string as UTF-8, anything else as JSON.',
  },
  restart: {
    enum: ['permanent', 'transient', 'temporary'],
    default: DEFAULTS.restart,
    description: 'permanent: always restarted; transient: only after a crash; temporary: never.',
  },
  limits: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxMessageBytes: {
        type: 'integer',
        minimum: 1,
        maximum: 64 * 1024 * 1024,
        default: DEFAULTS.maxMessageBytes,
        description: 'Largest payload this agent may send; sending a larger one crashes the agent.',
      },
      fuel: {
        type: 'integer',
        minimum: 1,
        maximum: 2_000_000_000,
        default: DEFAULTS.fuel,
        description:
          'Fuel per message (one unit per function call or loop iteration); past it the agent traps, at the same point on every run.',
      },
      memoryPages: {
        type: 'integer',
        minimum: 1,
        maximum: 65536,
        default: DEFAULTS.memoryPages,
        description: 'Most 64 KiB pages of memory the agent may have.',
      },
      maxSendsPerMessage: {
        type: 'integer',
        minimum: 1,
        maximum: 10_000_000,
        default: DEFAULTS.maxSendsPerMessage,
        description: 'Most messages the agent may send while handling one message.',
      },
      mailbox: {
        type: 'integer',
        minimum: 1,
        maximum: 100_000_000,
        default: DEFAULTS.mailboxSize,
        description: 'Most envelopes waiting in the mailbox; see overflow.',
      },
      overflow: {
        enum: ['dead-letter', 'reject'],
        default: DEFAULTS.mailboxOverflow,
        description: 'When the mailbox is full: dead-letter the envelope, or reject it back to its sender.',
      },
      watchdogMs: {
        type: 'integer',
        minimum: 10,
        maximum: 3_600_000,
        default: DEFAULTS.watchdogMs,
        description: 'Wall-clock backstop: a host that does not answer a batch within this time is killed.',
      },
    },
  },
  capabilities: {
    type: 'object',
    additionalProperties: false,
    properties: {
      sendTo: {
        type: 'array',
        uniqueItems: true,
        items: { type: 'string', anyOf: [{ pattern: NAME_PATTERN }, { const: '*' }] },
        description: 'Agents this one may send to; "*" grants every agent. Default: none.',
      },
      models: {
        type: 'array',
        uniqueItems: true,
        items: { type: 'string', pattern: NAME_PATTERN },
        description:
          'Models (declared in the system file) this agent may send requests to, at "@gpu/<model>". Default: none.',
      },
      tools: {
        type: 'array',
        uniqueItems: true,
        items: { type: 'string', pattern: TOOL_GRANT_PATTERN },
        description:
          'Tool servers (declared in the system file\'s tools) whose tools this agent may call: a whole server ("fs") or one tool ("fs/read_file"). Default: none.',
      },
    },
  },
  snapshot: {
    type: 'object',
    additionalProperties: false,
    required: ['everyTicks'],
    description:
      'Snapshot the agent (memory and globals) at tick boundaries; a restart restores the last snapshot instead of calling init.',
    properties: {
      everyTicks: {
        type: 'integer',
        minimum: 1,
        maximum: 1_000_000,
        description: 'Take one after every N ticks the agent handles.',
      },
    },
  },
  placement: {
    type: 'string',
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description:
      'In a cluster (troupe cluster / troupe node): the node whose machine runs this agent. If that node is lost, the agent restarts on a surviving one. Outside a cluster it is ignored.',
  },
  isolation: {
    enum: ['process', 'thread', 'shared'],
    default: DEFAULTS.isolation,
    description:
      'process: the agent runs in its own host process; thread: in its own worker thread of the supervisor, frames through shared-memory rings; shared: with many other agents (each its own WASM instance) on a pool of worker threads, one per core.',
  },
} as const;

const actorDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'module'],
  properties: actorProperties,
} as const;

export const actorSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://troupe.dev/schema/v1/actor.json',
  title: 'Troupe actor file (*.actor.yaml)',
  ...actorDefinition,
} as const;

const supervisorProperties = {
  placement: {
    type: 'string',
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description:
      "In a cluster: the node of this supervisor's agents (and nested ones') that do not set their own.",
  },
  isolation: {
    enum: ['process', 'thread', 'shared'],
    description:
      "The isolation of this supervisor's agents (and of nested supervisors' agents) that do not set their own.",
  },
  strategy: {
    enum: ['one_for_one', 'one_for_all', 'rest_for_one'],
    default: DEFAULTS.strategy,
    description:
      'one_for_one: restart the child that ended; one_for_all: restart all children; rest_for_one: restart it and the children after it.',
  },
  maxRestarts: {
    type: 'integer',
    minimum: 0,
    default: DEFAULTS.maxRestarts,
    description:
      'Restart intensity: at most this many restarts within periodMs, or this supervisor gives up.',
  },
  periodMs: { type: 'integer', minimum: 1, default: DEFAULTS.periodMs },
  backoff: {
    type: 'object',
    additionalProperties: false,
    description:
      'Ticks a restarted child waits before it rejoins: initialTicks × multiplier^(n-1) for its n-th consecutive restart (crashing again within maxTicks of rejoining), capped at maxTicks, plus seeded jitter.',
    properties: {
      initialTicks: {
        type: 'integer',
        minimum: 1,
        maximum: 1_000_000,
        default: DEFAULTS.backoff.initialTicks,
      },
      maxTicks: { type: 'integer', minimum: 1, maximum: 1_000_000, default: DEFAULTS.backoff.maxTicks },
      multiplier: { type: 'number', minimum: 1, maximum: 16, default: DEFAULTS.backoff.multiplier },
      jitter: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: DEFAULTS.backoff.jitter,
        description: 'Up to this fraction of the delay is added, drawn from the system seed.',
      },
    },
  },
} as const;

const childList = {
  type: 'array',
  minItems: 1,
  description:
    'Children in start order: a path to an *.actor.yaml file, an inline actor, or a nested supervisor.',
  items: {
    if: { type: 'string' },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
    then: { type: 'string', pattern: '\\.actor\\.ya?ml$' },
    else: {
      if: { type: 'object', properties: { supervisor: true }, required: ['supervisor'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
      then: { $ref: '#/definitions/supervisor' },
      else: { $ref: '#/definitions/actor' },
    },
  },
} as const;

const supervisorNode = {
  type: 'object',
  additionalProperties: false,
  required: ['supervisor', 'agents'],
  properties: {
    supervisor: { type: 'string', pattern: NAME_PATTERN, description: 'Name of this nested supervisor.' },
    ...supervisorProperties,
    agents: childList,
  },
} as const;

export const systemSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://troupe.dev/schema/v1/system.json',
  title: 'Troupe system file (*.system.yaml)',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'agents'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    seed: {
      type: 'integer',
      minimum: 0,
      maximum: 4294967295,
      default: DEFAULTS.seed,
      description: 'Seed of every agent random stream: same seed, same run.',
    },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxBatch: {
          type: 'integer',
          minimum: 1,
          maximum: 1_000_000,
          default: DEFAULTS.maxBatch,
          description: 'Most envelopes one agent receives in one tick.',
        },
        retryLimit: {
          type: 'integer',
          minimum: 0,
          maximum: 100,
          default: DEFAULTS.retryLimit,
          description: 'Retries of a message whose handling crashed the agent, before it is dead-lettered.',
        },
        inference: {
          enum: ['live', 'strict'],
          default: DEFAULTS.inference,
          description:
            "live: a model's answer enters at the first tick boundary after it arrives (journal it to replay); strict: the tick after a request waits for its answer, so runs with inference are the same without a journal.",
        },
      },
    },
    models: {
      type: 'array',
      description: 'ONNX models the GPU host loads and serves to agents at "@gpu/<name>".',
      items: { $ref: '#/definitions/model' },
    },
    tools: {
      type: 'array',
      description: 'MCP tool servers the tool host runs (or reaches) and serves to agents.',
      items: { $ref: '#/definitions/tool' },
    },
    supervisor: {
      type: 'object',
      additionalProperties: false,
      description: 'The root supervisor: its strategy, restart intensity and backoff.',
      properties: supervisorProperties,
    },
    agents: childList,
  },
  definitions: {
    actor: actorDefinition,
    supervisor: supervisorNode,
    model: modelDefinition,
    tool: toolDefinition,
  },
} as const;
