// Child side of the launcher contract: the channel to the parent, whichever backend started us.

export interface ParentChannel {
  send(frame: Uint8Array): void;
  onFrame(listener: (frame: unknown) => void): void;
  /** Called when the parent is gone, so the child never outlives it. */
  onParentGone(listener: () => void): void;
}

// Electron's utilityProcess gives the child `process.parentPort`; Node's fork gives `process.send`.
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

export function connectToParent(): ParentChannel {
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) {
    return {
      send: (frame) => port.postMessage(frame),
      onFrame: (listener) => port.on('message', (event) => listener(event.data)),
      // A utility process is ended by its parent when the parent quits; no event reaches us.
      onParentGone: () => {},
    };
  }
  if (!process.send) throw new Error('this process was not started by a Troupe launcher (no IPC channel)');
  return {
    send: (frame) => process.send?.(frame),
    onFrame: (listener) => process.on('message', listener),
    onParentGone: (listener) => process.on('disconnect', listener),
  };
}
