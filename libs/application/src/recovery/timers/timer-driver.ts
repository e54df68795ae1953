import type { Pool } from 'pg';
import type { RecoveryDecider, RecoveryInput } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { Clock } from '../clock';
import { buildStartContext } from '../facts';
import type { EngineLog, ShopLookup } from '../ports';
import { loadRecovery, runRecovery } from '../recovery-stream';
import type { SequenceRepository } from '../sequences/sequence-repository';
import type { ShopDeciders } from '../settings/shop-settings';
import type { ClaimedTimer, TimerStore } from './timer-store';

/** The timer driver's defaults, in one place. */
export const TIMER_DEFAULTS = {
  batchSize: 200,
  maxBatchesPerTick: 50,
  leaseMs: 60_000,
  concurrency: 8,
  retryDelayMs: 5_000,
} as const;

export interface TimerDriverDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly timers: TimerStore;
  readonly pm: RecoveryDecider;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  readonly shops: ShopLookup;
  readonly sequences: SequenceRepository;
  /** Normally a `DatabaseClock` (R8); a manual or accelerated clock in tests and the demo. */
  readonly clock: Clock;
  /** Holdout / rollout draw; default crypto. */
  readonly random?: () => number;
  readonly log?: EngineLog;
  /** Timers claimed per round trip. Default: {@link TIMER_DEFAULTS}, as for the others. */
  readonly batchSize?: number;
  /** Rounds per tick at most (a backlog drains over several ticks). */
  readonly maxBatchesPerTick?: number;
  /** Lease of a claim: a crashed worker's timers are claimable again after this. */
  readonly leaseMs?: number;
  /** Timers fired in parallel. */
  readonly concurrency?: number;
  /** After a failure the timer is tried again this much later. */
  readonly retryDelayMs?: number;
}

export interface TickResult {
  readonly claimed: number;
  readonly fired: number;
  readonly failed: number;
}

/**
 * Fires due timers: claim (lease) → `TimerFired` into the recovery stream → mark fired. The
 * decider ignores a timer that is not the current one, so a timer fired twice (a crash between the
 * append and `markFired`, a lease that ran out) still acts once. Schedule `tick()` with
 * @nestjs/schedule (e.g. every second); overlapping ticks of one driver are coalesced.
 */
export class TimerDriver {
  private running: Promise<TickResult> | undefined;

  constructor(private readonly deps: TimerDriverDeps) {}

  tick(): Promise<TickResult> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async drain(): Promise<TickResult> {
    const batchSize = this.deps.batchSize ?? TIMER_DEFAULTS.batchSize;
    const maxBatches = this.deps.maxBatchesPerTick ?? TIMER_DEFAULTS.maxBatchesPerTick;
    const total = { claimed: 0, fired: 0, failed: 0 };
    await this.deps.clock.refresh?.();
    for (let i = 0; i < maxBatches; i++) {
      const claimed = await this.deps.timers.claimDue(
        this.deps.clock.now(),
        batchSize,
        this.deps.leaseMs ?? TIMER_DEFAULTS.leaseMs,
      );
      total.claimed += claimed.length;
      const results = await this.fireAll(claimed);
      total.fired += results.filter(Boolean).length;
      total.failed += results.filter((ok) => !ok).length;
      if (claimed.length < batchSize) break;
    }
    return total;
  }

  private async fireAll(timers: readonly ClaimedTimer[]): Promise<boolean[]> {
    // Timers of one stream in due order, streams in parallel (bounded).
    const byStream = new Map<string, ClaimedTimer[]>();
    for (const t of timers) byStream.set(t.streamId, [...(byStream.get(t.streamId) ?? []), t]);
    const lanes = [...byStream.values()];
    const results: boolean[] = [];
    let next = 0;
    const worker = async () => {
      while (next < lanes.length) {
        const lane = lanes[next++];
        for (const t of lane) results.push(await this.fireOne(t));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.deps.concurrency ?? TIMER_DEFAULTS.concurrency, lanes.length) }, worker),
    );
    return results;
  }

  /** Fires one claimed timer; false when it failed (it is retried after `retryDelayMs`). */
  async fireOne(timer: ClaimedTimer): Promise<boolean> {
    try {
      const now = this.deps.clock.now();
      let input: RecoveryInput = {
        type: 'TimerFired',
        timerId: timer.timerId,
        dueAt: timer.dueAt.toISOString(),
        now: now.toISOString(),
      };
      if (timer.purpose === 'abandonment' && now.getTime() >= timer.dueAt.getTime()) {
        const { state } = await loadRecovery(this.deps.store, timer.streamId);
        if (state.timer?.timerId === timer.timerId) {
          const start = await buildStartContext(
            this.deps,
            this.deps.pool,
            timer.shopId,
            timer.streamId,
            state.cart?.customerKey,
          );
          input = { ...input, start };
        }
      }
      const pm = this.deps.deciders ? await this.deps.deciders.forShop(timer.shopId) : this.deps.pm;
      await runRecovery(this.deps.store, pm, timer.streamId, input, `timer:${timer.timerId}`, timer.shopId);
      await this.deps.timers.markFired(timer.timerId, now);
      return true;
    } catch (err) {
      this.deps.log?.warn(
        { timerId: timer.timerId, purpose: timer.purpose, error: err instanceof Error ? err.name : 'unknown' },
        'timer could not be fired: retried later',
      );
      const retryAt = new Date(
        this.deps.clock.now().getTime() + (this.deps.retryDelayMs ?? TIMER_DEFAULTS.retryDelayMs),
      );
      await this.deps.timers.release(timer.timerId, retryAt).catch(() => undefined);
      return false;
    }
  }
}
