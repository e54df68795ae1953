/**
 * Client-side rate limiter: callers wait for their turn instead of failing. A provider may have
 * several limits at once (Klaviyo: 350/s burst and 3,500/min steady); a call must fit every one.
 * Two kinds, after how the provider counts:
 * - `bucket` (default): a token bucket refilled continuously (Gorgias' leaky bucket, Twilio's queue).
 * - `window`: at most `capacity` calls started in any trailing `intervalMs` (plus a small guard for
 *   network jitter). This is what a provider counting in fixed or sliding windows accepts (Klaviyo):
 *   a continuously refilled bucket would let `capacity` + refill through inside one window and be
 *   answered 429.
 * Waiters are served first come, first served. Clock and sleep are injected so tests run without
 * real time.
 */
export interface BucketSpec {
  /** Calls available at once (the burst), or per window. */
  readonly capacity: number;
  /** `capacity` tokens are refilled, continuously, over this many milliseconds; or the window's length. */
  readonly intervalMs: number;
  readonly kind?: 'bucket' | 'window';
}

/** Extra spacing kept by `window` limits so a request that reaches the provider a little early still fits. */
export const WINDOW_GUARD_MS = 25;

import { realSleep, type Sleep } from '@reclaim/http';

export { realSleep, type Sleep };

export interface RateLimitWait {
  readonly limiter: string;
  readonly waitedMs: number;
}

export interface RateLimiterOptions {
  readonly now?: () => number;
  readonly sleep?: Sleep;
  /** Called after a caller had to wait (for metrics); never with personal data. */
  readonly onWait?: (wait: RateLimitWait) => void;
}

/** The documented limits (requests per window). */
export const PROVIDER_LIMITS = {
  /** Create Event: burst 350/s, steady 3,500/min (x-klaviyo-ratelimit of create_event). */
  klaviyoEvents: [
    { capacity: 350, intervalMs: 1_000, kind: 'window' },
    { capacity: 3_500, intervalMs: 60_000, kind: 'window' },
  ],
  /** Get Profiles / Create or Update Profile: burst 75/s, steady 750/min. */
  klaviyoProfiles: [
    { capacity: 75, intervalMs: 1_000, kind: 'window' },
    { capacity: 750, intervalMs: 60_000, kind: 'window' },
  ],
  /** Get Segments / Get Lists for Profile: burst 3/s, steady 60/min. */
  klaviyoProfileGroups: [
    { capacity: 3, intervalMs: 1_000, kind: 'window' },
    { capacity: 60, intervalMs: 60_000, kind: 'window' },
  ],
  /** Get Metrics: burst 10/s, steady 150/min. */
  klaviyoMetrics: [
    { capacity: 10, intervalMs: 1_000, kind: 'window' },
    { capacity: 150, intervalMs: 60_000, kind: 'window' },
  ],
  /** Get Events / Get Event: burst 350/s, steady 3,500/min. */
  klaviyoEventsRead: [
    { capacity: 350, intervalMs: 1_000, kind: 'window' },
    { capacity: 3_500, intervalMs: 60_000, kind: 'window' },
  ],
  /** API-key integrations: 40 requests per 20 s (leaky bucket, 2/s). */
  gorgias: [{ capacity: 40, intervalMs: 20_000 }],
  /** Per plan; 700/min is the Suite Team/Professional default. */
  zendesk: [{ capacity: 700, intervalMs: 60_000 }],
  /** Default Messages create queue: 100 requests/s per account. */
  twilio: [{ capacity: 100, intervalMs: 1_000 }],
} as const satisfies Record<string, readonly BucketSpec[]>;

interface Bucket {
  readonly spec: BucketSpec;
  tokens: number;
  updatedAt: number;
  /** `window` limits: start times of the calls in the trailing window, oldest first. */
  readonly starts: number[];
}

export class RateLimiter {
  private readonly buckets: Bucket[];
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    specs: readonly BucketSpec[],
    private readonly options: RateLimiterOptions = {},
  ) {
    if (specs.length === 0) throw new Error('a rate limiter needs at least one bucket');
    for (const s of specs) {
      if (!(s.capacity >= 1) || !(s.intervalMs > 0)) throw new Error(`invalid bucket ${JSON.stringify(s)}`);
    }
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    const t = this.now();
    this.buckets = specs.map((spec) => ({ spec, tokens: spec.capacity, updatedAt: t, starts: [] }));
  }

  /** Resolves when the call may go; the total time waited is reported through `onWait`. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(): Promise<void> {
    let waited = 0;
    for (;;) {
      const wait = this.msUntilAvailable();
      if (wait <= 0) break;
      waited += wait;
      await this.sleep(wait);
    }
    const t = this.now();
    for (const b of this.buckets) {
      if (b.spec.kind === 'window') b.starts.push(t);
      else b.tokens -= 1;
    }
    if (waited > 0) this.options.onWait?.({ limiter: this.name, waitedMs: waited });
  }

  private msUntilAvailable(): number {
    const t = this.now();
    let wait = 0;
    for (const b of this.buckets) {
      if (b.spec.kind === 'window') {
        const span = b.spec.intervalMs + WINDOW_GUARD_MS;
        let drop = 0;
        while (drop < b.starts.length && b.starts[drop]! <= t - span) drop++;
        if (drop > 0) b.starts.splice(0, drop);
        // The call that would be one too many in the window waits until the oldest counted one leaves it.
        if (b.starts.length >= b.spec.capacity) {
          wait = Math.max(wait, b.starts[b.starts.length - b.spec.capacity]! + span - t);
        }
        continue;
      }
      const rate = b.spec.capacity / b.spec.intervalMs;
      b.tokens = Math.min(b.spec.capacity, b.tokens + (t - b.updatedAt) * rate);
      b.updatedAt = t;
      if (b.tokens < 1) wait = Math.max(wait, Math.ceil((1 - b.tokens) / rate));
    }
    return wait;
  }
}
