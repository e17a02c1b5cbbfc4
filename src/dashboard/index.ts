// Public surface of the dashboard: the session (state, commands) and the headless HTTP server.
export { parseCommand } from './commands.js';
export { CONTENT_TYPES } from './content-types.js';
export { type DashboardServer, startDashboardServer } from './http-server.js';
export { DashboardSession, type RuntimeHooks, type SessionOptions } from './session.js';
export { DashboardModel, type RuntimeView } from './view-model.js';
export type {
  AgentView,
  ClientMessage,
  Command,
  ServerMessage,
  Snapshot,
  TraceEntry,
  TreeRow,
} from './wire.js';
export { MAX_CLIENT_MESSAGE_BYTES, MAX_INJECT_BYTES } from './wire.js';
