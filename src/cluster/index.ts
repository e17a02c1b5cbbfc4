// Public surface of clustering: nodes joined through NATS, hosts started on them, who is alive.

export { type ClusterKeys, clusterKeys, withoutCredentials } from './cluster-keys.js';
export {
  type ClusterHosting,
  Coordinator,
  CoordinatorError,
  type CoordinatorOptions,
} from './coordinator.js';
export { HostChannel, RecordKind } from './host-channel.js';
export {
  type FollowedJournal,
  type FollowHandlers,
  type FollowPosition,
  followStreamJournal,
} from './journal-follow.js';
export {
  createStreamJournal,
  readStreamJournal,
  type StoredJournal,
  StreamJournal,
  StreamJournalError,
  streamJournalName,
} from './journal-stream.js';
export { nodeRestartDelay, type Say } from './local-nodes.js';
export { Membership, placeAgent } from './membership.js';
export { ModelFetcher, type ModelListing, ModelServer, startsWithGpuLoad } from './model-shipping.js';
export { ModuleFetcher, ModuleServer } from './module-shipping.js';
export {
  CredentialsError,
  closeNats,
  connectNats,
  type NatsConnection,
  watchConnection,
} from './nats-connect.js';
export {
  type LocalNats,
  NATS_RESTART_MS,
  NATS_SERVER,
  type NatsSupervision,
  startLocalNats,
  startSupervisedNats,
} from './nats-server.js';
export { NodeService } from './node-service.js';
export {
  authorizationBlock,
  type ClusterIdentity,
  COORDINATOR,
  inboxPrefix,
  NAME_PATTERN,
  permissionsOf,
} from './permissions.js';
export { LinkKind, ReliableLink } from './reliable-link.js';
export { RemoteLauncher } from './remote-launcher.js';
export { judgeEvery } from './silence.js';
export { awaitTakeover, type StandbyOutcome, watchCoordinator } from './standby.js';
export {
  Following,
  type FollowOptions,
  type FollowOutcome,
  followToTakeover,
  type RunJournal,
  runEnded,
  startFollowing,
} from './standby-follow.js';
export { stopProcess } from './stop-process.js';
export { HEARTBEAT_MS, NODE_LOST_MS, subjects } from './subjects.js';
