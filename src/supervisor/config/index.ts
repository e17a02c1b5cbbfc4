// Public surface of config loading: typed specs, the loader, its error and the published schemas.

export { closest, suggestion } from './did-you-mean.js';
export type { LoadOptions } from './load.js';
export { ConfigError, findProjectRoot, loadSystem, readSystemName, validateFile } from './load.js';
export { actorSchema, DEFAULTS, systemSchema } from './schema.js';
export type {
  AgentLimits,
  AgentSpec,
  Backoff,
  ChildSpec,
  InferenceMode,
  Isolation,
  MailboxOverflow,
  ModelSpec,
  ModelType,
  RemoteModelSpec,
  RestartType,
  Strategy,
  SupervisorSpec,
  SystemSpec,
  ToolServerSpec,
  ToolTransport,
} from './specs.js';
export type { ConfigIssue } from './yaml-source.js';
export { formatIssue } from './yaml-source.js';
