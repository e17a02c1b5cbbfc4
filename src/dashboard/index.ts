// Public surface of the dashboard: the session (state, commands) and the headless HTTP server.
export { parseCommand } from './commands.js';
export { CONTENT_TYPES } from './content-types.js';
export { type DashboardServer, startDashboardServer } from './http-server.js';
export {
  type DashboardEndpoint,
  DashboardSession,
  type RuntimeHooks,
  type SessionOptions,
} from './session.js';
export { TravelIndex } from './travel-index.js';
export { indexJournal, journalParting, openTravel, type TravelOptions } from './travel-open.js';
export { TravelSession } from './travel-session.js';
export { DashboardModel, type RuntimeView, treeRows } from './view-model.js';
export type {
  AgentView,
  ClientMessage,
  Command,
  ServerMessage,
  Snapshot,
  TickView,
  TraceEntry,
  TravelInfo,
  TreeRow,
} from './wire.js';
export { MAX_CLIENT_MESSAGE_BYTES, MAX_INJECT_BYTES } from './wire.js';
