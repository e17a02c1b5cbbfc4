// Requests sent to the GPU host and not yet answered. Each is answered exactly once: an answer
// to a request that is not pending (a repeat after a restart, or a stale one) is dropped.

export interface PendingRequest {
  id: string;
  model: string;
  request: Uint8Array;
  /** Submission order: deterministic, since requests are submitted in tick and key order. */
  order: number;
}

export class PendingRequests {
  readonly #pending = new Map<string, PendingRequest>();
  #submitted = 0;

  get size(): number {
    return this.#pending.size;
  }

  add(id: string, model: string, request: Uint8Array): PendingRequest {
    const pending = { id, model, request, order: this.#submitted++ };
    this.#pending.set(id, pending);
    return pending;
  }

  /** The request, if it still waits (it goes on waiting). */
  get(id: string): PendingRequest | undefined {
    return this.#pending.get(id);
  }

  /** The request this answers, if it still waits; it stops waiting. */
  settle(id: string): PendingRequest | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }

  /** Every waiting request, in submission order (to send again after a restart). */
  all(): PendingRequest[] {
    return [...this.#pending.values()].sort((a, b) => a.order - b.order);
  }

  clear(): PendingRequest[] {
    const all = this.all();
    this.#pending.clear();
    return all;
  }
}
