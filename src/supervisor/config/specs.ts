// Typed, defaulted specs: what the rest of the runtime gets once a config file is validated.

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface Backoff {
  readonly initialTicks: number;
  readonly maxTicks: number;
  readonly multiplier: number;
  readonly jitter: number;
}

export interface SupervisorSpec {
  readonly name: string;
  readonly strategy: Strategy;
  readonly maxRestarts: number;
  readonly periodMs: number;
  readonly backoff: Backoff;
  /** In start order. */
  readonly children: readonly ChildSpec[];
}

export type ChildSpec = { readonly agent: string } | { readonly supervisor: SupervisorSpec };

export type MailboxOverflow = 'dead-letter' | 'reject';

export interface AgentLimits {
  readonly maxMessageBytes: number;
  readonly fuel: number;
  readonly memoryPages: number;
  readonly maxSendsPerMessage: number;
  readonly mailbox: number;
  readonly overflow: MailboxOverflow;
  readonly watchdogMs: number;
}

/** Where an agent's host runs: its own process, its own worker thread, or a shared pool thread. */
export type Isolation = 'process' | 'thread' | 'shared';

export interface AgentSpec {
  readonly name: string;
  /** Absolute path of the WASM module. */
  readonly modulePath: string;
  readonly initData: Uint8Array;
  readonly restart: RestartType;
  readonly limits: AgentLimits;
  /** Agents this one may send to; `'*'` grants all. */
  readonly sendTo: ReadonlySet<string> | '*';
  /** Models this agent may send requests to. */
  readonly models: ReadonlySet<string>;
  /** Tool grants: whole servers (`fs`) and single tools (`fs/read_file`). */
  readonly tools: ReadonlySet<string>;
  readonly isolation: Isolation;
  /**
   * The cluster node the agent's host runs on (`troupe cluster`, `troupe node`); unset: the
   * coordinator's machine. Outside a cluster it is ignored.
   */
  readonly placement?: string;
  /** Snapshot after every N handled ticks, restored on restart; 0 = never. */
  readonly snapshotEvery: number;
  /** Where the agent was declared, for messages that point the user at it. */
  readonly declaredAt: string;
  /** Where the system file lists it (its entry in an `agents` list). */
  readonly listedAt: ReadonlyArray<string | number>;
}

export type InferenceMode = 'live' | 'strict';

/** onnx: tensors in, tensors out; llm: text generation from a model folder; openai: text generation by an OpenAI-compatible server. */
export type ModelType = 'onnx' | 'llm' | 'openai';

/** A model served by an OpenAI-compatible server (type: openai). */
export interface RemoteModelSpec {
  /** The API's base ("http://127.0.0.1:11434/v1"): the one host its requests go to. */
  readonly url: string;
  /** The model's name on that server. */
  readonly model: string;
  /** The variable holding the API key, given to the GPU host's environment and nothing else. */
  readonly apiKeyEnv?: string;
  /** A generation not finished within this time ends with TIMED_OUT. */
  readonly timeoutMs: number;
}

export interface ModelSpec {
  readonly name: string;
  readonly type: ModelType;
  /** Absolute path of the .onnx file (llm: of the model folder; openai: empty). */
  readonly path: string;
  /** type openai: where it is served. */
  readonly remote?: RemoteModelSpec;
  readonly providers: readonly string[];
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly batching: {
    readonly enabled: boolean;
    readonly maxBatch: number;
    readonly maxQueueDelayMs: number;
  };
  readonly warmup: boolean;
  readonly maxRequestBytes: number;
  /** type llm: prompt prefixes' keys and values kept for later requests (docs/inference.md). */
  readonly prefixCache?: {
    readonly enabled: boolean;
    readonly maxBytes: number;
    readonly blockTokens: number;
  };
}

/** How the tool host reaches an MCP server. */
export type ToolTransport =
  /** It starts the server and speaks to it over stdio. */
  | {
      readonly type: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      /** Declared variables (the safe defaults are added where the server is started). */
      readonly env: Readonly<Record<string, string>>;
      /** Absolute working folder. */
      readonly cwd: string;
    }
  /** A Streamable HTTP endpoint. */
  | { readonly type: 'http'; readonly url: string };

export interface ToolServerSpec {
  readonly name: string;
  readonly transport: ToolTransport;
  readonly timeoutMs: number;
  readonly maxAnswerBytes: number;
  readonly maxConcurrent: number;
}

export interface SystemSpec {
  readonly name: string;
  readonly file: string;
  readonly root: string;
  readonly seed: number;
  readonly scheduler: {
    readonly maxBatch: number;
    readonly retryLimit: number;
    readonly inference: InferenceMode;
  };
  /** Models served by the GPU host, in declared order. */
  readonly models: readonly ModelSpec[];
  /** MCP tool servers, in declared order. */
  readonly tools: readonly ToolServerSpec[];
  /** The root of the supervision tree; it is named after the system. */
  readonly supervisor: SupervisorSpec;
  /** Every agent of the tree, in declared order (depth first), which is start order. */
  readonly agents: readonly AgentSpec[];
}

/** A parsed YAML mapping before it is checked and typed. */
export type Raw = Record<string, unknown>;
