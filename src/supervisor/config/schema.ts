// JSON Schemas of the system and actor files: used to validate, and published for editors.

export const NAME_PATTERN = '^[a-z][a-z0-9_-]{0,62}$';
/** A tool grant: a whole server (`fs`), or one of its tools (`fs/read_file`; MCP tool names). */
export const TOOL_GRANT_PATTERN = '^[a-z][a-z0-9_-]{0,62}(/[A-Za-z0-9_.-]{1,128})?$';

export const DEFAULTS = {
  seed: 0,
  maxBatch: 1024,
  retryLimit: 2,
  strategy: 'one_for_one',
  maxRestarts: 5,
  periodMs: 10_000,
  restart: 'permanent',
  maxMessageBytes: 1024 * 1024,
  fuel: 100_000_000,
  memoryPages: 1024,
  maxSendsPerMessage: 10_000,
  mailboxSize: 10_000,
  mailboxOverflow: 'dead-letter',
  backoff: { initialTicks: 1, maxTicks: 64, multiplier: 2, jitter: 0 },
  watchdogMs: 10_000,
  isolation: 'process',
  inference: 'live',
  providers: ['cpu'],
  threads: 1,
  batching: { enabled: false, maxBatch: 8, maxQueueDelayMs: 2 },
  maxRequestBytes: 64 * 1024 * 1024,
  toolTimeoutMs: 30_000,
  toolMaxAnswerBytes: 1024 * 1024,
  toolMaxConcurrent: 4,
} as const;

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

const threadCount = {
  type: 'integer',
  minimum: 0,
  maximum: 256,
  default: DEFAULTS.threads,
  description: '0 lets ONNX Runtime choose.',
} as const;

const modelDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'path'],
  properties: {
    name: {
      type: 'string',
      pattern: NAME_PATTERN,
      description: 'Agents address the model as "@gpu/<name>".',
    },
    type: {
      enum: ['onnx', 'llm'],
      default: 'onnx',
      description:
        'onnx: an .onnx file, tensors in and out (troupe/infer); llm: a decoder folder in the Hugging Face Optimum layout, text generation (troupe/generate).',
    },
    path: {
      type: 'string',
      minLength: 1,
      description: 'Path of the .onnx file (llm: of the model folder), relative to this file.',
    },
    providers: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' },
      default: DEFAULTS.providers,
      description:
        'Execution providers in preference order (cuda, tensorrt, dml, coreml, webgpu, cpu); each is tried alone and cpu always ends the list.',
    },
    threads: {
      type: 'object',
      additionalProperties: false,
      properties: { intraOp: threadCount, interOp: threadCount },
    },
    batching: {
      type: 'object',
      additionalProperties: false,
      description: 'Dynamic batching: requests from different agents with the same shapes run as one batch.',
      properties: {
        enabled: { type: 'boolean', default: DEFAULTS.batching.enabled },
        maxBatch: {
          type: 'integer',
          minimum: 1,
          maximum: 65536,
          default: DEFAULTS.batching.maxBatch,
          description: 'Most rows (first dimension) in one run; llm: most sequences decoding together.',
        },
        maxQueueDelayMs: {
          type: 'number',
          minimum: 0,
          maximum: 10_000,
          default: DEFAULTS.batching.maxQueueDelayMs,
          description: 'Longest a request waits for others to join its batch.',
        },
      },
    },
    warmup: {
      type: 'boolean',
      default: false,
      description: 'Run one request of zeros before the model is ready.',
    },
    maxRequestBytes: {
      type: 'integer',
      minimum: 1,
      maximum: 2_147_483_647,
      default: DEFAULTS.maxRequestBytes,
      description: 'Largest request, in bytes of tensor data; larger ones get a TOO_LARGE error.',
    },
  },
} as const;

const toolDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  description:
    'An MCP server: started by the tool host (mcp:), or reached over Streamable HTTP (url:); one of the two.',
  properties: {
    name: {
      type: 'string',
      pattern: NAME_PATTERN,
      description: 'Agents call its tools by this name (capabilities.tools: [name] or [name/tool]).',
    },
    mcp: {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      description: 'A server the tool host starts and speaks to over stdio.',
      properties: {
        command: { type: 'string', minLength: 1, description: 'The program (found on PATH).' },
        args: { type: 'array', items: { type: 'string' }, description: 'Its arguments.' },
        env: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description:
            "Variables it gets besides the safe defaults (HOME, LOGNAME, PATH, SHELL, TERM, USER); nothing else of the supervisor's environment is passed.",
        },
        cwd: {
          type: 'string',
          minLength: 1,
          description: 'Its working folder, relative to this file. Default: the folder of this file.',
        },
      },
    },
    url: {
      type: 'string',
      pattern: '^https?://',
      description: 'The endpoint of a Streamable HTTP MCP server.',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600_000,
      default: DEFAULTS.toolTimeoutMs,
      description: 'A call not answered within this time is answered with an error.',
    },
    maxAnswerBytes: {
      type: 'integer',
      minimum: 1,
      maximum: 64 * 1024 * 1024,
      default: DEFAULTS.toolMaxAnswerBytes,
      description: 'A larger answer is refused with an error.',
    },
    maxConcurrent: {
      type: 'integer',
      minimum: 1,
      maximum: 1024,
      default: DEFAULTS.toolMaxConcurrent,
      description: 'Calls in flight at once to this server; more wait their turn.',
    },
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
