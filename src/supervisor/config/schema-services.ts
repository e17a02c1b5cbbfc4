// The schemas of what serves agents in a system file: models (the GPU host) and tool servers (MCP).
import { DEFAULTS, NAME_PATTERN } from './schema-defaults.js';

const threadCount = {
  type: 'integer',
  minimum: 0,
  maximum: 256,
  default: DEFAULTS.threads,
  description: '0 lets ONNX Runtime choose.',
} as const;

export const modelDefinition = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  // A remote model is reached at a url; every other model is a file or folder.
  if: { properties: { type: { const: 'openai' } }, required: ['type'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
  then: { properties: { url: true, model: true }, required: ['url', 'model'] },
  else: { properties: { path: true }, required: ['path'] },
  properties: {
    name: {
      type: 'string',
      pattern: NAME_PATTERN,
      description: 'Agents address the model as "@gpu/<name>".',
    },
    type: {
      enum: ['onnx', 'llm', 'openai'],
      default: 'onnx',
      description:
        'onnx: an .onnx file, tensors in and out (troupe/infer); llm: a decoder folder in the Hugging Face Optimum layout, text generation (troupe/generate); openai: text generation (troupe/generate) by an OpenAI-compatible server (url, model).',
    },
    url: {
      type: 'string',
      pattern: '^https?://',
      description:
        'type openai: the API base (e.g. http://127.0.0.1:11434/v1); requests go to <url>/chat/completions and nowhere else (redirects are refused).',
    },
    model: {
      type: 'string',
      minLength: 1,
      description: "type openai: the model's name on that server.",
    },
    apiKeyEnv: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      description:
        "type openai: the environment variable holding the API key (sent as a bearer token). Only the GPU host's environment gets it; it is never journaled.",
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600_000,
      default: DEFAULTS.remoteTimeoutMs,
      description: 'type openai: a generation not finished within this time ends with a TIMED_OUT error.',
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
    prefixCache: {
      description:
        'type llm: keep the keys and values of prompt prefixes for later requests (true, the default), or not (false), or with this bound and block size. The generated text is the same either way.',
      anyOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxBytes: {
              type: 'integer',
              minimum: 0,
              maximum: 1_099_511_627_776,
              default: DEFAULTS.prefixCache.maxBytes,
              description: 'Most bytes of keys and values held; the least recently used blocks go first.',
            },
            blockTokens: {
              type: 'integer',
              minimum: 1,
              maximum: 4096,
              default: DEFAULTS.prefixCache.blockTokens,
              description: 'Tokens per cached block: a prompt reuses whole blocks.',
            },
          },
        },
      ],
    },
  },
} as const;

export const toolDefinition = {
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
      description:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder users write, not a template.
        'A server the tool host starts and speaks to over stdio. "${systemFolder}" in command, args, env values and cwd is the folder of this file (an absolute path).',
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
