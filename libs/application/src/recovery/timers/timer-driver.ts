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
  concurrency: 16,
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

  /** When the next timer becomes claimable (for a next-due wake-up); undefined when none is pending. */
  nextDueAt(): Promise<Date | undefined> {
    return this.deps.timers.nextDueAt();
  }

  /**
   * Batches are pipelined: the next claim runs while the current batch fires, and a fired batch is
   * marked with one UPDATE (a crash before the mark re-fires the batch after the lease; the
   * deterministic event ids and the decider's current-timer check make that a no-op).
   */
  private async drain(): Promise<TickResult> {
    const batchSize = this.deps.batchSize ?? TIMER_DEFAULTS.batchSize;
    const maxBatches = this.deps.maxBatchesPerTick ?? TIMER_DEFAULTS.maxBatchesPerTick;
    const leaseMs = this.deps.leaseMs ?? TIMER_DEFAULTS.leaseMs;
    const total = { claimed: 0, fired: 0, failed: 0 };
    await this.deps.clock.refresh?.();
    const claim = () => this.deps.timers.claimDue(this.deps.clock.now(), batchSize, leaseMs);
    let next: Promise<ClaimedTimer[]> | undefined = claim();
    for (let i = 0; next !== undefined; i++) {
      const claimed: ClaimedTimer[] = await next;
      next = claimed.length === batchSize && i + 1 < maxBatches ? claim() : undefined;
      try {
        total.claimed += claimed.length;
        const fired = await this.fireAll(claimed);
        const retryAt = new Date(
          this.deps.clock.now().getTime() + (this.deps.retryDelayMs ?? TIMER_DEFAULTS.retryDelayMs),
        );
        const failed = claimed.filter((t) => !fired.has(t.timerId)).map((t) => t.timerId);
        await this.deps.timers.markFiredMany([...fired.keys()], this.deps.clock.now());
        await this.deps.timers.releaseMany(failed, retryAt).catch(() => undefined);
        total.fired += fired.size;
        total.failed += failed.length;
      } catch (err) {
        // The claim already running is given back at once rather than left to its lease.
        const pending = await next?.catch(() => []);
        if (pending?.length) {
          await this.deps.timers
            .releaseMany(
              pending.map((t) => t.timerId),
              this.deps.clock.now(),
            )
            .catch(() => undefined);
        }
        throw err;
      }
    }
    return total;
  }

  /** Fires a batch; the ids of the timers that fired (the others are retried after `retryDelayMs`). */
  private async fireAll(timers: readonly ClaimedTimer[]): Promise<Set<string>> {
    // Timers of one stream in due order, streams in parallel (bounded).
    const byStream = new Map<string, ClaimedTimer[]>();
    for (const t of timers) {
      const lane = byStream.get(t.streamId);
      if (lane) lane.push(t);
      else byStream.set(t.streamId, [t]);
    }
    const lanes = [...byStream.values()];
    const fired = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < lanes.length) {
        const lane = lanes[next++];
        for (const t of lane) if (await this.fire(t)) fired.add(t.timerId);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.deps.concurrency ?? TIMER_DEFAULTS.concurrency, lanes.length) }, worker),
    );
    return fired;
  }

  /** Fires one claimed timer and marks it; false when it failed (it is retried after `retryDelayMs`). */
  async fireOne(timer: ClaimedTimer): Promise<boolean> {
    if (await this.fire(timer)) {
      await this.deps.timers.markFired(timer.timerId, this.deps.clock.now());
      return true;
    }
    await this.deps.timers
      .release(
        timer.timerId,
        new Date(this.deps.clock.now().getTime() + (this.deps.retryDelayMs ?? TIMER_DEFAULTS.retryDelayMs)),
      )
      .catch(() => undefined);
    return false;
  }

  /** `TimerFired` into the recovery stream (not marked); false when it failed. Protected: benches swap it. */
  protected async fire(timer: ClaimedTimer): Promise<boolean> {
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
      return true;
    } catch (err) {
      this.deps.log?.warn(
        { timerId: timer.timerId, purpose: timer.purpose, error: err instanceof Error ? err.name : 'unknown' },
        'timer could not be fired: retried later',
      );
      return false;
    }
  }
}
