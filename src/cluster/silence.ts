// How long each peer (a node, a coordinator) has not been heard, counted only while this process
// is connected to NATS: cut off, a peer's silence proves nothing; back, every peer gets the whole
// time again, and its first beat since says it listens again (so what it missed can go at once).
// And when to judge it: only once this process has read what came in (judgeEvery).

export class Silence<Peer = string> {
  readonly #now: () => number;
  /** When each peer was last heard (or when the connection last came back). */
  readonly #heard = new Map<Peer, number>();
  /** Peers not heard since the connection came back. */
  readonly #unheard = new Set<Peer>();
  #connected = true;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** A beat of `peer`; true when it is its first since the connection came back. */
  heard(peer: Peer): boolean {
    this.#heard.set(peer, this.#now());
    return this.#unheard.delete(peer);
  }

  has(peer: Peer): boolean {
    return this.#heard.has(peer);
  }

  /** Every peer heard at least once (and not forgotten). */
  get peers(): Peer[] {
    return [...this.#heard.keys()];
  }

  forget(peer: Peer): void {
    this.#heard.delete(peer);
    this.#unheard.delete(peer);
  }

  disconnected(): void {
    this.#connected = false;
  }

  reconnected(): void {
    this.#connected = true;
    const now = this.#now();
    for (const peer of this.#heard.keys()) {
      this.#heard.set(peer, now);
      this.#unheard.add(peer);
    }
  }

  /** The peers not heard for `ms` or more while connected (none while cut off). */
  silent(ms: number): Peer[] {
    if (!this.#connected) return [];
    const now = this.#now();
    return [...this.#heard].filter(([, heard]) => now - heard >= ms).map(([peer]) => peer);
  }
}

/**
 * Calls `judge` every `ms`, each time once this process has read what came in meanwhile. A timer
 * due while this process was busy fires before the I/O that waited behind it, beats included, so
 * a judgement made right then would count peers silent that were not: it waits for the next
 * check phase of the event loop, which comes after the socket has been read.
 */
export function judgeEvery(ms: number, judge: () => void): { stop(): void } {
  let stopped = false;
  const timer = setInterval(() => setImmediate(() => stopped || judge()), ms);
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** Resolves after `ms`, once this process has read what came in meanwhile (see judgeEvery). */
export function afterReading(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(() => setImmediate(resolve), ms));
}
