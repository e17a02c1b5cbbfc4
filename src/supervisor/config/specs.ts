// Typed, defaulted specs: what the rest of the runtime gets once a config file is validated.

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one';

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

export interface AgentSpec {
  readonly name: string;
  /** Absolute path of the WASM module. */
  readonly modulePath: string;
  readonly initData: Uint8Array;
  readonly restart: RestartType;
  readonly limits: AgentLimits;
  /** Agents this one may send to; `'*'` grants all. */
  readonly sendTo: ReadonlySet<string> | '*';
  readonly isolation: 'process';
  /** Where the agent was declared, for messages that point the user at it. */
  readonly declaredAt: string;
}

export interface SystemSpec {
  readonly name: string;
  readonly file: string;
  readonly root: string;
  readonly seed: number;
  readonly scheduler: { readonly maxBatch: number; readonly retryLimit: number };
  readonly supervisor: {
    readonly strategy: Strategy;
    readonly maxRestarts: number;
    readonly periodMs: number;
  };
  /** In declared order, which is start order. */
  readonly agents: readonly AgentSpec[];
}
