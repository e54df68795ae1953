import type { Pool } from 'pg';

/**
 * The engine's time. Injected everywhere so tests and the demo can run time fast. `refresh` (when
 * present) is awaited by the workers before they read the time, so an implementation can resync.
 */
export interface Clock {
  now(): Date;
  refresh?(): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };

export interface DatabaseClockOptions {
  /** How often the offset to the database clock is measured again. Default 30 s. */
  readonly resyncEveryMs?: number;
  /** The local clock (injectable to test a skewed worker). Default `Date.now`. */
  readonly local?: () => number;
}

/**
 * The database server's clock, read through a measured offset (R8): every worker compares due times
 * with the same clock, so a worker whose own clock runs ±10 minutes off neither fires early nor late.
 * The offset is measured with `clock_timestamp()` at the midpoint of the round trip.
 */
export class DatabaseClock implements Clock {
  private offsetMs = 0;
  private syncedAt: number | undefined;
  private readonly resyncEveryMs: number;
  private readonly local: () => number;

  constructor(
    private readonly pool: Pool,
    options: DatabaseClockOptions = {},
  ) {
    this.resyncEveryMs = options.resyncEveryMs ?? 30_000;
    this.local = options.local ?? Date.now;
  }

  now(): Date {
    return new Date(this.local() + this.offsetMs);
  }

  /** Measures the offset again when it is older than `resyncEveryMs` (always on the first call). */
  async refresh(): Promise<void> {
    const t = this.local();
    if (this.syncedAt !== undefined && t - this.syncedAt < this.resyncEveryMs) return;
    await this.sync();
  }

  async sync(): Promise<void> {
    const before = this.local();
    const { rows } = await this.pool.query<{ ms: string }>(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS ms`,
    );
    const after = this.local();
    this.offsetMs = Number(rows[0].ms) - (before + after) / 2;
    this.syncedAt = after;
  }

  /** Database time minus local time, as last measured. */
  get offset(): number {
    return this.offsetMs;
  }
}

/**
 * Time running `factor` times faster than the wall clock from `start` (demo and soak tests: a
 * three-day sequence in minutes). Built on another clock, so it can be accelerated database time.
 */
export class AcceleratedClock implements Clock {
  private readonly origin: number;
  private readonly startAt: number;

  constructor(
    private readonly factor: number,
    start?: Date,
    private readonly base: Clock = systemClock,
  ) {
    if (!(factor > 0)) throw new RangeError('factor must be positive');
    this.origin = base.now().getTime();
    this.startAt = (start ?? base.now()).getTime();
  }

  now(): Date {
    return new Date(this.startAt + (this.base.now().getTime() - this.origin) * this.factor);
  }

  async refresh(): Promise<void> {
    await this.base.refresh?.();
  }
}
