import type { Pool } from 'pg';
import { listenForNotifications } from '../../shared/listen';
import type { Clock } from '../clock';

export interface WakeLoopOptions {
  /** One round of work; resolves with when the next round is due (undefined: unknown, poll). */
  readonly run: () => Promise<Date | undefined>;
  /** The time due dates are compared with (the database clock, R8). */
  readonly clock: Clock;
  /** The longest sleep between rounds: a fallback poll for wake-ups that were missed. */
  readonly fallbackMs: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * Runs `run` at the next due time it reports, at once when {@link wake} is called with an earlier
 * time (a NOTIFY from the timer table or effect queue), and at least every `fallbackMs`. Rounds
 * never overlap; a wake-up during a round starts another round right after it.
 */
export class WakeLoop {
  private timer: NodeJS.Timeout | undefined;
  private scheduledAt = Number.POSITIVE_INFINITY;
  private round: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: WakeLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Runs a round at `at` (default now) unless one is already scheduled earlier. */
  wake(at?: Date): void {
    if (this.stopped) return;
    if (this.round) {
      if (at === undefined || at.getTime() <= this.options.clock.now().getTime()) this.again = true;
      else this.schedule(at.getTime());
      return;
    }
    this.schedule(at?.getTime() ?? this.options.clock.now().getTime());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  private schedule(atMs: number): void {
    const now = this.options.clock.now().getTime();
    const target = Math.min(atMs, now + this.options.fallbackMs);
    if (this.timer && target >= this.scheduledAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.scheduledAt = target;
    this.timer = setTimeout(() => this.fire(), Math.max(0, target - now));
  }

  private fire(): void {
    this.timer = undefined;
    this.scheduledAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    if (this.round) {
      this.again = true;
      return;
    }
    this.round = (async () => {
      let next: Date | undefined;
      try {
        next = await this.options.run();
      } catch (err) {
        this.options.onError?.(err);
      }
      return next;
    })().then((next) => {
      this.round = undefined;
      if (this.stopped) return;
      const now = this.options.clock.now().getTime();
      if (this.again) {
        this.again = false;
        this.schedule(now);
      } else this.schedule(next?.getTime() ?? now + this.options.fallbackMs);
    });
  }
}

/**
 * LISTENs on `channels` with one dedicated connection and calls `onNotify` for each notification;
 * reconnects after `retryMs` when the connection fails, until `signal` aborts. Missed notifications
 * are covered by the loops' fallback poll.
 */
export function listenForWakeUps(
  pool: Pool,
  channels: readonly string[],
  onNotify: (channel: string, payload: string | undefined) => void,
  signal: AbortSignal,
  retryMs = 1_000,
): Promise<void> {
  return listenForNotifications(pool, channels, { onNotify }, signal, retryMs);
}
