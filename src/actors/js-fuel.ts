// A JavaScript agent's fuel, counted by its metered engine (quickjs-engine.ts): the budget of each
// call and each message in it, refilled when the engine runs dry, and what a call used.
import { UNMETERED } from './quickjs-engine.js';

/** Thrown through the engine when an agent's fuel is spent: it unwinds QuickJS to the host. */
class FuelExhausted extends Error {}

export class EngineFuel {
  readonly #counter: WebAssembly.Global;
  /** limits.fuel: 0 when unmetered. */
  readonly #budget: number;
  /** Which message of the batch is running (-1: none), as the SDK's control block says. */
  readonly #running: () => number;
  /** Whether the agent's code is running (its fuel counts), not Troupe's own work in the engine. */
  #metering = false;
  /** Fuel given to the running call so far, and the message that was last given a budget. */
  #given = 0;
  #granted = 0;
  #out = false;
  #used = 0;

  constructor(counter: WebAssembly.Global, budget: number, running: () => number) {
    this.#counter = counter;
    this.#budget = budget;
    this.#running = running;
  }

  /** The call ran out of fuel. */
  get out(): boolean {
    return this.#out;
  }

  /** What the calls since `reset` used. */
  get used(): number {
    return this.#used;
  }

  set used(fuel: number) {
    this.#used = fuel;
  }

  reset(): void {
    this.#out = false;
    this.#used = 0;
  }

  reason(): string {
    return `fuel exhausted: the call used more than its budget of ${this.#budget} (limits.fuel)`;
  }

  /** Gives the agent's code its budget; returns a function that ends its metering. */
  start(): () => void {
    const counter = this.#counter;
    const budget = this.#budget > 0 ? this.#budget : UNMETERED;
    counter.value = budget;
    this.#given = budget;
    // This budget is the first message's (or init's): only a later message gets another.
    this.#granted = 0;
    this.#metering = true;
    return () => {
      this.#metering = false;
      this.#used += this.#given - (counter.value as number);
      counter.value = UNMETERED;
    };
  }

  /**
   * The engine's fuel fell below zero. Troupe's own work in the engine (setting up, reading a
   * result, describing an error) is never stopped. An agent's message gets a fresh budget when the
   * SDK's index shows it started since the last one was given (fuel a message leaves passes to the
   * next in its batch): a batch of N messages never gets more than N budgets. Otherwise the call
   * is stopped where it is, at the same instruction on every run.
   */
  refuel(): void {
    const counter = this.#counter;
    if (!this.#metering || this.#budget === 0) {
      this.#given += UNMETERED - (counter.value as number);
      counter.value = UNMETERED;
      return;
    }
    const running = this.#running();
    if (!this.#out && running > this.#granted) {
      this.#granted = running;
      this.#given += this.#budget;
      counter.value = (counter.value as number) + this.#budget;
      return;
    }
    this.#out = true;
    throw new FuelExhausted();
  }
}
