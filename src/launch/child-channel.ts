// Child side of the launcher contract: the channel to the parent, whichever backend started us.
import { Socket } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FrameReader, writeFrame } from './frame-stream.js';
import { RingChannel } from './ring-channel.js';
import { RunningAgent } from './running-agent.js';

export interface ParentChannel {
  send(frame: Uint8Array): void;
  onFrame(listener: (frame: unknown) => void): void;
  /** Called when the parent is gone, so the child never outlives it. */
  onParentGone(listener: () => void): void;
  /** Tells the parent which agent runs now (a shared-pool thread; elsewhere it is known). */
  running(agent: string | undefined): void;
}

// Electron's utilityProcess gives the child `process.parentPort`; the Node launcher gives it a
// pipe on the file descriptor named by TROUPE_CHANNEL_FD.
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/** What the supervisor may send in one frame (a batch of the largest envelopes, a module load). */
const MAX_FRAME_FROM_PARENT = 1024 * 1024 * 1024;

/** What the thread launchers give a host thread: its two rings (thread-launcher.ts). */
export interface ThreadChannelData {
  troupeRings: { toHost: SharedArrayBuffer; toSupervisor: SharedArrayBuffer };
  /** A thread of the shared pool: it serves agents until the pool ends it, even while it has none. */
  pooled?: boolean;
  /** Where a pool thread says which agent it runs (running-agent.ts). */
  running?: SharedArrayBuffer;
}

/** Whether this host stays up with no agent to serve (a pool thread), instead of exiting. */
export function staysUpWhenIdle(): boolean {
  return !isMainThread && (workerData as Partial<ThreadChannelData> | null)?.pooled === true;
}

export function connectToParent(): ParentChannel {
  const data = workerData as Partial<ThreadChannelData> | null;
  const rings = data?.troupeRings;
  if (!isMainThread && rings && parentPort) return ringParentChannel(rings, parentPort, data?.running);
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) {
    return {
      send: (frame) => port.postMessage(frame),
      onFrame: (listener) => port.on('message', (event) => listener(event.data)),
      // A utility process is ended by its parent when the parent quits; no event reaches us.
      onParentGone: () => {},
      running: () => {},
    };
  }
  const fd = Number(process.env.TROUPE_CHANNEL_FD);
  if (!Number.isInteger(fd) || fd < 3)
    throw new Error('this process was not started by a Troupe launcher (no TROUPE_CHANNEL_FD)');
  return pipeChannel(new Socket({ fd, readable: true, writable: true }));
}

function pipeChannel(pipe: Socket): ParentChannel {
  const listeners: Array<(frame: unknown) => void> = [];
  const gone: Array<() => void> = [];
  const leave = () => {
    for (const listener of gone.splice(0)) listener();
  };
  const reader = new FrameReader(MAX_FRAME_FROM_PARENT, {
    frame: (frame) => {
      for (const listener of listeners) listener(frame);
    },
    oversize: leave,
  });
  pipe.on('data', (chunk: Buffer) => reader.push(chunk));
  pipe.on('end', leave);
  pipe.on('close', leave);
  pipe.on('error', leave);
  return {
    send: (frame) => {
      if (!pipe.destroyed) writeFrame(pipe, frame);
    },
    onFrame: (listener) => listeners.push(listener),
    onParentGone: (listener) => gone.push(listener),
    running: () => {},
  };
}

function ringParentChannel(
  rings: ThreadChannelData['troupeRings'],
  port: NonNullable<typeof parentPort>,
  runningBuffer: SharedArrayBuffer | undefined,
): ParentChannel {
  const running = runningBuffer ? new RunningAgent(runningBuffer) : undefined;
  const channel = new RingChannel(rings.toSupervisor, rings.toHost, port);
  const listeners: Array<(frame: unknown) => void> = [];
  const gone: Array<() => void> = [];
  channel.listen(
    (frame) => {
      for (const listener of listeners) listener(frame);
    },
    () => {
      for (const listener of gone.splice(0)) listener();
    },
  );
  return {
    send: (frame) => channel.send(frame),
    onFrame: (listener) => listeners.push(listener),
    onParentGone: (listener) => gone.push(listener),
    running: (agent) => running?.write(agent),
  };
}
