// Public surface of the launchers shared by every backend. The Electron backend is imported from
// './electron-launcher.js' by the Electron app entry only.
export type { ParentChannel } from './child-channel.js';
export { connectToParent, staysUpWhenIdle } from './child-channel.js';
export { NodeLauncher } from './node-launcher.js';
export { SharedPoolLauncher } from './pool-launcher.js';
export { ThreadLauncher } from './thread-launcher.js';
export type { Backend, ExitInfo, HostProcess, Launcher, SpawnOptions } from './types.js';
