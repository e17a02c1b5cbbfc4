// OTP restart decisions as pure functions: whether a child restarts, and restart intensity.
import type { RestartType } from '../config/index.js';

/** How a child ended: a crash (trap, process death), or a normal finish of its own. */
export type ExitKind = 'crash' | 'normal';

/** OTP: permanent always restarts, transient only after a crash, temporary never. */
export function shouldRestart(restart: RestartType, exit: ExitKind): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'transient') return exit === 'crash';
  return false;
}

export interface Intensity {
  maxRestarts: number;
  periodMs: number;
}

export interface IntensityCheck {
  /** Restart times still inside the period, including this one. */
  history: readonly number[];
  exceeded: boolean;
}

/**
 * OTP's add_restart: keep the restarts within the period, add this one, and compare with the
 * intensity. Past it, the supervisor gives up instead of restarting.
 */
export function addRestart(history: readonly number[], now: number, intensity: Intensity): IntensityCheck {
  const kept = history.filter((at) => now - at < intensity.periodMs);
  kept.push(now);
  return { history: kept, exceeded: kept.length > intensity.maxRestarts };
}
