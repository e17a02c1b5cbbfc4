// Where the supervisor keeps each agent's last snapshot: it survives the agent's host process.

export interface SnapshotStore {
  save(agent: string, snapshot: Uint8Array): void;
  load(agent: string): Uint8Array | undefined;
  drop(agent: string): void;
}

/** The default store: in the supervisor's memory, one snapshot per agent. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #snapshots = new Map<string, Uint8Array>();

  save(agent: string, snapshot: Uint8Array): void {
    this.#snapshots.set(agent, snapshot);
  }

  load(agent: string): Uint8Array | undefined {
    return this.#snapshots.get(agent);
  }

  drop(agent: string): void {
    this.#snapshots.delete(agent);
  }
}
